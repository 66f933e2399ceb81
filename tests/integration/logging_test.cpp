// Log lines are what operators grep: "[time] [logger] [level] message", the
// logger being kerberusd for the host and the plugin id for a plugin, with a
// level that can be raised for one plugin alone.
#include <regex>
#include <string>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

TEST(IntegrationLogging, HostLinesCarryTimeLoggerAndLevel) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto lines = d.log_lines_with({"serving on http://127.0.0.1:"});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(std::regex_search(lines[0], std::regex(R"(^\[[^\]]+\] \[kerberusd\] \[info\] .*serving on http://127\.0\.0\.1:[0-9]+)")))
        << lines[0];
}

TEST(IntegrationLogging, PluginLinesCarryThePluginId) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("never-responds"))));
    auto lines = d.log_lines_with({"lifecycle: init"});
    ASSERT_EQ(lines.size(), 1u) << d.log();
    EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(^\[[^\]]+\] \[never-responds\] \[info\] lifecycle: init$)")))
        << lines[0];
}

TEST(IntegrationLogging, PluginDebugLinesAreDroppedAtTheDefaultLevel) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("never-responds"))));
    ASSERT_TRUE(d.wait_for_log({"lifecycle: init"}, 1s));
    EXPECT_TRUE(d.log_lines_with({"lifecycle: debug detail"}).empty()) << d.log();
}

TEST(IntegrationLogging, PluginLogLevelAppliesToThatPluginOnly) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()
                            .plugin_dir(fixture_plugin_dir("never-responds"))
                            .plugin("never-responds", "log_level: debug")));
    auto lines = d.log_lines_with({"lifecycle: debug detail"});
    ASSERT_EQ(lines.size(), 1u) << d.log();
    EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(^\[[^\]]+\] \[never-responds\] \[debug\] lifecycle: debug detail$)")))
        << lines[0];
    // The host stays at info.
    EXPECT_TRUE(d.log_lines_with({"[kerberusd] [debug]"}).empty()) << d.log();
}

}  // namespace
}  // namespace kerberus::test
