#include <gtest/gtest.h>

#include "ops/logging.h"

using kerberus::ops::stream_is_journal;

TEST(JournalStream, MatchesOnlyTheSameDeviceAndInode) {
    EXPECT_TRUE(stream_is_journal("8:12345", 8, 12345));
    EXPECT_FALSE(stream_is_journal("8:12345", 8, 12346));
    EXPECT_FALSE(stream_is_journal("9:12345", 8, 12345));
    EXPECT_FALSE(stream_is_journal("", 8, 12345));
    EXPECT_FALSE(stream_is_journal("8:12345x", 8, 12345));
    EXPECT_FALSE(stream_is_journal("garbage", 0, 0));
}

TEST(LogLevels, ConfigNamesMapToSpdlogLevels) {
    using kerberus::ops::parse_level;
    EXPECT_EQ(parse_level("trace"), spdlog::level::trace);
    EXPECT_EQ(parse_level("debug"), spdlog::level::debug);
    EXPECT_EQ(parse_level("info"), spdlog::level::info);
    EXPECT_EQ(parse_level("warn"), spdlog::level::warn);
    EXPECT_EQ(parse_level("error"), spdlog::level::err);
    EXPECT_EQ(parse_level("critical"), spdlog::level::critical);
    EXPECT_EQ(parse_level("off"), spdlog::level::off);
}
