// Start, deadlines and shutdown: signals end the daemon cleanly after the
// requests in flight are answered, kept requests get the host's own answer,
// plugins stop in reverse order, and a required plugin that cannot start
// keeps the daemon from serving at all.
#include <signal.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

// "[time] [logger] [level] message" -> "logger"
std::string logger_of(const std::string& line) {
    auto first = line.find("] [");
    if (first == std::string::npos) return {};
    auto end = line.find(']', first + 3);
    if (end == std::string::npos) return {};
    return line.substr(first + 3, end - first - 3);
}

std::vector<std::string> loggers_of(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) out.push_back(logger_of(line));
    return out;
}

TEST(IntegrationLifecycle, SigtermExitsZero) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationLifecycle, SigintExitsZero) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    d.signal(SIGINT);
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationLifecycle, RequestInFlightAtSigtermIsAnsweredAndNoNewOneIsServed) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("shutdown_timeout", "10s")));
    auto in_flight = std::async(std::launch::async, [&] { return get(d.url("/api/echo/delay?ms=1500")); });
    std::this_thread::sleep_for(300ms);
    d.signal(SIGTERM);
    std::this_thread::sleep_for(200ms);

    Request late;
    late.url = d.url("/api/hello/late");
    late.timeout = 4s;
    auto refused = perform(late);
    EXPECT_NE(refused.status, 200) << "a request arriving after SIGTERM was served: " << refused.body;

    auto r = in_flight.get();
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    auto doc = parse_json(r.body);
    EXPECT_TRUE(!doc.HasParseError() && doc.HasMember("delayed_ms")) << r.body;
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationLifecycle, KeptRequestPastItsDeadlineGets504) {
    Daemon d;
    ASSERT_TRUE(d.start(
        bundled_config().plugin_dir(fixture_plugin_dir("never-responds")).server("request_timeout", "500ms")));
    auto started = Clock::now();
    auto r = get(d.url("/api/never-responds/"));
    auto elapsed = elapsed_ms(started);
    EXPECT_TRUE(is_error_response(r, 504, "GET", "/api/never-responds/"));
    EXPECT_GE(elapsed, 450);
    EXPECT_LT(elapsed, 5000);
    // The log names the plugin and the route that kept it.
    EXPECT_TRUE(d.wait_for_log({"[never-responds]", "GET /api/never-responds/ (route GET /)",
                                "not answered within server.request_timeout"}))
        << d.log();
    // The plugin and the daemon are unharmed.
    EXPECT_EQ(get(d.url("/api/never-responds/ping")).body, "pong\n");
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationLifecycle, RequestStillKeptAtShutdownGets503) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()
                            .plugin_dir(fixture_plugin_dir("never-responds"))
                            .server("request_timeout", "30s")
                            .server("shutdown_timeout", "1s")));
    auto kept = std::async(std::launch::async, [&] { return get(d.url("/api/never-responds/")); });
    std::this_thread::sleep_for(300ms);
    auto signalled = Clock::now();
    d.signal(SIGTERM);
    auto r = kept.get();
    EXPECT_TRUE(is_error_response(r, 503, "GET", "/api/never-responds/"));
    EXPECT_LT(elapsed_ms(signalled), 5000);
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationLifecycle, PluginsStopInReverseOrderOfStart) {
    Daemon d;
    ASSERT_TRUE(d.start(ConfigBuilder()
                            .plugin_dir(fixture_plugin_dir("config-snoop"))
                            .plugin_dir(fixture_plugin_dir("never-responds"))));
    d.signal(SIGTERM);
    ASSERT_EQ(d.wait_exit(10s), 0);
    auto started = loggers_of(d.log_lines_with({"lifecycle: init"}));
    auto stopped = loggers_of(d.log_lines_with({"lifecycle: stop"}));
    ASSERT_EQ(started.size(), 2u);
    ASSERT_EQ(stopped.size(), 2u);
    EXPECT_EQ(stopped, (std::vector<std::string>{started.rbegin(), started.rend()}));
}

TEST(IntegrationLifecycle, RequiredPluginThatFailsStopsStartup) {
    Daemon d;
    auto config = bundled_config()
                      .plugin_dir(fixture_plugin_dir("required-fails"))
                      .plugin("required-fails", "required: true");
    auto run = d.run_to_exit({"--config", d.write_config(config).string()}, 10s);
    EXPECT_EQ(run.status, 1);
    EXPECT_FALSE(d.log_lines_with({"required-fails"}).empty()) << "no line names the plugin";
    EXPECT_EQ(run.err.find("serving on"), std::string::npos);
}

TEST(IntegrationLifecycle, RequiredPluginWithoutAFileStopsStartup) {
    Daemon d;
    auto config = bundled_config().plugin("not-installed", "required: true");
    auto run = d.run_to_exit({"--config", d.write_config(config).string()}, 10s);
    EXPECT_EQ(run.status, 1);
    EXPECT_FALSE(d.log_lines_with({"not-installed"}).empty()) << "no line names the plugin";
    EXPECT_EQ(run.err.find("serving on"), std::string::npos);
}

TEST(IntegrationLifecycle, OptionalPluginThatFailsDoesNotStopStartup) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("required-fails"))));
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
    EXPECT_EQ(d.log_lines_with({"failed to start", "required dependency missing"}).size(), 1u);
}

}  // namespace
}  // namespace kerberus::test
