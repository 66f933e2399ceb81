// The host functions return what plugin.h promises, observed from a real
// plugin through a running daemon.
#include <gtest/gtest.h>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

class IntegrationAbiContract : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("abi-contract"))));
    }
    std::string body(const std::string& path) {
        auto r = get(d.url("/api/abi-contract" + path));
        EXPECT_EQ(r.status, 200) << path << ": " << r.body;
        return r.body;
    }
    Daemon d;
};

}  // namespace

TEST_F(IntegrationAbiContract, RouteAddRefusesDuplicatesAndMalformedRoutes) {
    EXPECT_EQ(body("/init"), "duplicate=-4 pattern=-1 method=-1 handler=-1 has_respond=1");
}

TEST_F(IntegrationAbiContract, RouteAddAfterInitIsRefused) {
    EXPECT_EQ(body("/late"), "late=-5");
    EXPECT_EQ(get(d.url("/api/abi-contract/added-late")).status, 404);
}

TEST_F(IntegrationAbiContract, SecondResponseIsRefusedAndTheFirstStands) {
    EXPECT_EQ(body("/twice"), "first");
    EXPECT_TRUE(d.wait_for_log({"[abi-contract]", "second=state"}, 2s)) << d.log();
    EXPECT_TRUE(d.wait_for_log({"responded twice"}, 2s)) << d.log();
}

TEST_F(IntegrationAbiContract, StatusOutOfRangeIsRefusedAndTheRequestStaysAnswerable) {
    EXPECT_EQ(body("/invalid"), "low=-1 informational=-1 high=-1");
}

TEST_F(IntegrationAbiContract, FramingHeadersAndHeaderInjectionAreRefused) {
    auto r = get(d.url("/api/abi-contract/headers"));
    EXPECT_EQ(r.body, "crlf=-1 length=-1 connection=-1 te=-1 badname=-1 ok=0");
    EXPECT_EQ(r.header("X-Fine").value_or(""), "yes");
    EXPECT_FALSE(r.header("X-Injected").has_value());
}

TEST_F(IntegrationAbiContract, RequestHeaderLookupIsCaseInsensitive) {
    Request req;
    req.url = d.url("/api/abi-contract/header");
    req.headers.push_back("X-Probe: probe value 42");
    auto r = perform(req);
    EXPECT_EQ(r.body, "probe value 42");
}

TEST_F(IntegrationAbiContract, KeptRequestIsReadableAndAnsweredFromAnotherThread) {
    for (int i = 0; i < 20; ++i) EXPECT_EQ(body("/late-async"), "/late-async");
}

TEST_F(IntegrationAbiContract, RespondErrorSendsTheDaemonsErrorBodyWithThePluginsHeaders) {
    auto r = get(d.url("/api/abi-contract/error"));
    EXPECT_TRUE(is_error_response(r, 422, "GET", "/api/abi-contract/error"));
    EXPECT_EQ(r.header("X-First-Try").value_or(""), "-1");
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc["error"], "message").value_or(""), "the \"thing\" cannot be processed");
}
