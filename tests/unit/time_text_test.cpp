#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "common/time_text.h"

namespace {

using namespace std::chrono;

TEST(IsoTime, RfcThreeThreeNineUtcWithMilliseconds) {
    // 2026-11-29T20:01:02.345Z
    system_clock::time_point t{seconds{1795982462} + milliseconds{345}};
    EXPECT_EQ(kerberus::iso_time(t), "2026-11-29T20:01:02.345Z");
    EXPECT_EQ(kerberus::iso_time(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(SecondStamp, FormatsTheCurrentSecondInItsPattern) {
    kerberus::SecondStamp http_date("%a, %d %b %Y %H:%M:%S GMT");
    std::string first(http_date.now());
    EXPECT_TRUE(std::regex_match(first, std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")))
        << first;
    kerberus::SecondStamp clf("[%d/%b/%Y:%H:%M:%S +0000]");
    EXPECT_TRUE(std::regex_match(std::string(clf.now()), std::regex(R"(\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\])")));
}

}  // namespace
