// What an operator sees of a running daemon: metrics promtool accepts, per
// route and per plugin, plugins' own metrics that cannot forge anyone
// else's, health feeding readiness, and request ids end to end.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <sys/wait.h>

#include "daemon.h"
#include "http_client.h"
#include "upstream_server.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

std::string scrape(const Daemon& d) {
    Response r = get(d.admin_url("/metrics"));
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
}

// `promtool check metrics` (Debian's prometheus package) on a scrape: the
// exposition format, names, HELP/TYPE and units as Prometheus lints them.
::testing::AssertionResult promtool_accepts(const std::string& text, const std::filesystem::path& dir) {
    std::filesystem::path file = dir / "scrape.txt";
    std::ofstream(file) << text;
    std::string command = "promtool check metrics < '" + file.string() + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return ::testing::AssertionFailure() << "cannot run promtool";
    std::string output;
    char buffer[512];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    int status = ::pclose(pipe);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "promtool check metrics (status " << status << "):\n" << output;
}

// The value of the sample line starting with `series` ("name{labels}").
std::optional<double> sample(const std::string& text, const std::string& series) {
    for (const auto& line : split_lines(text)) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return std::nullopt;
}

ConfigBuilder observed_config() {
    return bundled_config()
        .plugin_dir(fixture_plugin_dir("observed"))
        .section("health", "{ interval: 100ms, timeout: 600ms }");
}

TEST(IntegrationMetrics, ScrapeAfterTrafficReloadAndAFailedPluginPassesPromtool) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("init-fails"))));
    for (int i = 0; i < 5; ++i) ASSERT_EQ(get(d.url("/api/hello/x")).status, 200);
    EXPECT_EQ(get(d.url("/api/echo/status/503")).status, 503);
    EXPECT_EQ(get(d.url("/api/nowhere/")).status, 404);
    EXPECT_EQ(get(d.url("/api/hello/a/b/c")).status, 404);
    EXPECT_EQ(get(d.url("/api/init-fails/")).status, 503);
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reloaded:"}));

    // The reload is counted just after its summary is logged.
    std::string text;
    for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
        text = scrape(d);
        if (sample(text, R"(kerberus_config_reloads_total{result="success"})") == 1) break;
    }
    EXPECT_TRUE(promtool_accepts(text, d.dir()));
    EXPECT_EQ(sample(text, R"(kerberus_http_requests_total{plugin="hello",route="/:name",method="GET",code="200"})"), 5);
    EXPECT_EQ(sample(text, R"(kerberus_http_requests_total{plugin="echo",route="/status/:code",method="GET",code="503"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_http_request_duration_seconds_count{plugin="hello",route="/:name",method="GET"})"), 5);
    EXPECT_EQ(sample(text, R"(kerberus_http_requests_in_flight{plugin="hello",route="/:name",method="GET"})"), 0);
    EXPECT_GT(*sample(text, R"(kerberus_http_response_bytes_total{plugin="hello",route="/:name",method="GET"})"), 0);
    EXPECT_EQ(sample(text, R"(kerberus_http_host_errors_total{plugin="",reason="no_plugin",code="404"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_http_host_errors_total{plugin="hello",reason="no_route",code="404"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_http_host_errors_total{plugin="init-fails",reason="plugin_unavailable",code="503"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_up{plugin="hello"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_up{plugin="init-fails"})"), 0);
    EXPECT_EQ(sample(text, R"(kerberus_config_reloads_total{result="success"})"), 1);
    EXPECT_EQ(sample(text, "kerberus_config_last_reload_successful"), 1);
    EXPECT_GT(*sample(text, "kerberus_process_resident_memory_bytes"), 1e6);
    EXPECT_GT(*sample(text, "kerberus_process_open_fds"), 3);
    const std::string abi = std::regex_replace(kHostAbi, std::regex(R"(\.)"), R"(\.)");
    EXPECT_TRUE(std::regex_search(text, std::regex(R"(kerberus_plugin_info\{plugin="hello",version="1\.0\.0",abi=")" + abi + R"(",sha256="[0-9a-f]{64}"\} 1)")))
        << text;
    EXPECT_TRUE(std::regex_search(text, std::regex(R"(kerberus_build_info\{version="[^"]+",abi=")" + abi + R"("\} 1)")));
}

TEST(IntegrationMetrics, RejectedReloadIsCounted) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    d.write_file("kerberus.yaml", "server:\n  workers: many\n");
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reload failed"}));
    std::string text;
    for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
        text = scrape(d);
        if (sample(text, R"(kerberus_config_reloads_total{result="rejected"})") == 1) break;
    }
    EXPECT_EQ(sample(text, R"(kerberus_config_reloads_total{result="rejected"})"), 1) << text;
    EXPECT_EQ(sample(text, "kerberus_config_last_reload_successful"), 0);
    EXPECT_TRUE(promtool_accepts(text, d.dir()));
}

// A plugin's own metrics carry its prefix and a plugin label it cannot set;
// specs that would forge the host's series or break the format are refused.
TEST(IntegrationMetrics, PluginMetricsArePrefixedLabelledAndCannotForge) {
    Daemon d;
    ASSERT_TRUE(d.start(observed_config()));
    ASSERT_EQ(post(d.url("/api/observed/count?n=3"), "").status, 200);
    ASSERT_EQ(post(d.url("/api/observed/count?n=2"), "").status, 200);
    ASSERT_EQ(post(d.url("/api/observed/gauge?v=7.5"), "").status, 200);
    ASSERT_EQ(post(d.url("/api/observed/observe?v=0.3"), "").status, 200);

    std::string text = scrape(d);
    EXPECT_TRUE(promtool_accepts(text, d.dir()));
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_things_total{plugin="observed"})"), 5) << text;
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_colours_total{plugin="observed",kind="red"})"), 2);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_queue_depth{plugin="observed"})"), 7.5);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_work_duration_seconds_bucket{plugin="observed",le="0.25"})"), 0);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_work_duration_seconds_bucket{plugin="observed",le="0.5"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_work_duration_seconds_count{plugin="observed"})"), 1);
    EXPECT_EQ(text.find("forged_total"), std::string::npos);

    auto refusals = parse_json(get(d.url("/api/observed/refusals")).body);
    ASSERT_TRUE(refusals.IsObject());
    EXPECT_EQ(refusals["forged_label"].GetInt(), KERBERUS_ERR_INVALID);
    EXPECT_EQ(refusals["bad_name"].GetInt(), KERBERUS_ERR_INVALID);
    EXPECT_EQ(refusals["counter_without_total"].GetInt(), KERBERUS_ERR_INVALID);
    EXPECT_EQ(refusals["conflict"].GetInt(), KERBERUS_ERR_CONFLICT);
    EXPECT_EQ(refusals["set_on_counter"].GetInt(), KERBERUS_ERR_INVALID);
    // Each refused spec says why in the plugin's log.
    EXPECT_FALSE(d.log_lines_with({"observed", "label name \"plugin\" is the host's"}).empty()) << d.log();
}

// A reloaded plugin's counters go on where they were.
TEST(IntegrationMetrics, CountsSurviveAReloadThatReplacesThePlugin) {
    Daemon d;
    ASSERT_TRUE(d.start(observed_config().plugin("observed", "config: { generation: 1 }")));
    ASSERT_EQ(post(d.url("/api/observed/count?n=4"), "").status, 200);
    d.write_config(observed_config().plugin("observed", "config: { generation: 2 }"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reloaded:", "1 replaced"}));
    ASSERT_EQ(post(d.url("/api/observed/count?n=1"), "").status, 200);
    std::string text = scrape(d);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_observed_things_total{plugin="observed"})"), 5) << text;
    EXPECT_EQ(sample(text, R"(kerberus_http_requests_total{plugin="observed",route="/count",method="POST",code="200"})"), 2);
}

TEST(IntegrationMetrics, ProxyReportsUpstreamLatencyStatusAndErrors) {
    UpstreamServer upstream;
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin(
        "proxy", "config: { endpoints: { /up: \"" + upstream.url("") + "\", /down: \"http://127.0.0.1:1\" } }")));
    ASSERT_EQ(get(d.url("/api/proxy/up/a")).status, 200);
    ASSERT_EQ(get(d.url("/api/proxy/up/status/404")).status, 404);
    ASSERT_EQ(get(d.url("/api/proxy/down/x")).status, 502);
    std::string text = scrape(d);
    EXPECT_TRUE(promtool_accepts(text, d.dir()));
    EXPECT_EQ(sample(text, R"(kerberus_plugin_proxy_upstream_responses_total{plugin="proxy",endpoint="/up",status_class="2xx"})"), 1)
        << text;
    EXPECT_EQ(sample(text, R"(kerberus_plugin_proxy_upstream_responses_total{plugin="proxy",endpoint="/up",status_class="4xx"})"), 1);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_proxy_upstream_request_duration_seconds_count{plugin="proxy",endpoint="/up"})"), 2);
    EXPECT_EQ(sample(text, R"(kerberus_plugin_proxy_upstream_errors_total{plugin="proxy",endpoint="/down",reason="unreachable"})"), 1);
}

// ------------------------------------------------------------- health

bool wait_for_readiness(const Daemon& d, long status, Millis timeout = 5s) {
    for (auto until = Clock::now() + timeout; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
        if (get(d.url("/.kerberus/health/v1/readiness")).status == status) return true;
    }
    return false;
}

std::optional<std::string> plugin_field(const Response& readiness, const std::string& id, const char* field) {
    auto doc = parse_json(readiness.body);
    if (!doc.IsObject() || !doc.HasMember("plugins")) return std::nullopt;
    for (const auto& p : doc["plugins"].GetArray()) {
        if (json_string(p, "id") == id) return json_string(p, field);
    }
    return std::nullopt;
}

TEST(IntegrationHealth, UnhealthyRequiredPluginMakesTheDaemonNotReadyUntilItRecovers) {
    Daemon d;
    ASSERT_TRUE(d.start(observed_config().plugin("observed", "required: true")));
    ASSERT_TRUE(wait_for_readiness(d, 200));
    ASSERT_EQ(post(d.url("/api/observed/health/failing"), "").status, 200);
    ASSERT_TRUE(wait_for_readiness(d, 503));
    Response ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_EQ(json_string(parse_json(ready.body), "status"), "error") << ready.body;
    EXPECT_EQ(json_string(parse_json(ready.body), "message"), "required plugin observed is unhealthy");
    EXPECT_EQ(plugin_field(ready, "observed", "state"), "unhealthy");
    EXPECT_EQ(plugin_field(ready, "observed", "message"), "database unreachable");
    EXPECT_EQ(plugin_field(ready, "hello", "state"), "running");
    // Backstage's path answers the same; liveness does not depend on plugins.
    EXPECT_EQ(get(d.url("/.backstage/health/v1/readiness")).status, 503);
    EXPECT_EQ(get(d.url("/.kerberus/health/v1/liveness")).status, 200);
    EXPECT_EQ(get(d.url("/.backstage/health/v1/liveness")).status, 200);
    // Requests are still served: readiness is for balancers.
    EXPECT_EQ(get(d.url("/api/hello/x")).status, 200);

    ASSERT_EQ(post(d.url("/api/observed/health/ok"), "").status, 200);
    ASSERT_TRUE(wait_for_readiness(d, 200));
    // Each change logged once.
    EXPECT_EQ(d.log_lines_with({"plugin observed is unhealthy: database unreachable"}).size(), 1u) << d.log();
    EXPECT_EQ(d.log_lines_with({"plugin observed is healthy again"}).size(), 1u) << d.log();
    EXPECT_EQ(sample(scrape(d), R"(kerberus_plugin_healthy{plugin="observed"})"), 1);
}

TEST(IntegrationHealth, HealthCheckPastItsTimeoutCountsAsUnhealthy) {
    Daemon d;
    ASSERT_TRUE(d.start(observed_config().plugin("observed", "required: true")));
    ASSERT_EQ(post(d.url("/api/observed/health/hanging"), "").status, 200);
    ASSERT_TRUE(wait_for_readiness(d, 503));
    Response ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_NE(plugin_field(ready, "observed", "message").value_or("").find("has not returned within health.timeout"),
              std::string::npos)
        << ready.body;
    // Handlers keep being served meanwhile: the check runs on a thread of its own.
    EXPECT_EQ(get(d.url("/api/hello/x")).status, 200);
    ASSERT_EQ(post(d.url("/api/observed/health/ok"), "").status, 200);
    EXPECT_TRUE(wait_for_readiness(d, 200));
}

TEST(IntegrationHealth, UnhealthyOptionalPluginLeavesTheDaemonReady) {
    Daemon d;
    ASSERT_TRUE(d.start(observed_config()));
    ASSERT_EQ(post(d.url("/api/observed/health/failing"), "").status, 200);
    ASSERT_TRUE(d.wait_for_log({"plugin observed is unhealthy"}));
    Response ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(plugin_field(ready, "observed", "state"), "unhealthy");
}

// An instance that can serve nothing should not take traffic.
TEST(IntegrationHealth, NotReadyWhenEveryEnabledPluginFailed) {
    Daemon d;
    ASSERT_TRUE(d.start(ConfigBuilder().plugin_dir(fixture_plugin_dir("init-fails"))));
    Response ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_EQ(json_string(parse_json(ready.body), "message"), "no plugin is running (1 enabled)");
    EXPECT_EQ(plugin_field(ready, "init-fails", "state"), "failed");
    EXPECT_EQ(plugin_field(ready, "init-fails", "message"), "database unreachable");
}

TEST(IntegrationHealth, DisabledPluginIsListedAndItsRoutesSaySo) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("echo", "enabled: false")));
    Response ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(plugin_field(ready, "echo", "state"), "disabled");
    Response r = get(d.url("/api/echo/x"));
    EXPECT_TRUE(is_error_response(r, 404, "GET", "/api/echo/x"));
    EXPECT_NE(r.body.find("disabled in the configuration"), std::string::npos) << r.body;
}

// ---------------------------------------------------------- request ids

TEST(IntegrationRequestId, WellFormedIdsAreKeptOthersReplacedAndEveryAnswerCarriesOne) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Request keep;
    keep.url = d.url("/api/echo/x");
    keep.headers = {"X-Request-Id: trace-4bf92f35-77b3"};
    Response kept = perform(keep);
    EXPECT_EQ(kept.header("X-Request-Id"), "trace-4bf92f35-77b3");
    EXPECT_EQ(json_string(parse_json(kept.body), "request_id"), "trace-4bf92f35-77b3");

    Request bad = keep;
    bad.headers = {"X-Request-Id: has spaces"};
    Response replaced = perform(bad);
    std::string id = replaced.header("X-Request-Id").value_or("");
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
    EXPECT_EQ(json_string(parse_json(replaced.body), "request_id"), id);

    Response a = get(d.url("/api/hello/x"));
    Response b = get(d.url("/api/hello/x"));
    ASSERT_TRUE(a.header("X-Request-Id") && b.header("X-Request-Id"));
    EXPECT_NE(*a.header("X-Request-Id"), *b.header("X-Request-Id"));
    // The daemon's own answers too.
    EXPECT_TRUE(get(d.url("/api/nowhere")).header("X-Request-Id").has_value());
}

TEST(IntegrationRequestId, ProxySendsItUpstream) {
    UpstreamServer upstream;
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("proxy", "config: { endpoints: { /up: \"" + upstream.url("") + "\" } }")));
    Request r;
    r.url = d.url("/api/proxy/up/headers");
    r.headers = {"X-Request-Id: abc-123"};
    Response answer = perform(r);
    ASSERT_EQ(answer.status, 200) << answer.body;
    ASSERT_TRUE(upstream.last_request().has_value());
    EXPECT_EQ(upstream.last_request()->header_values("X-Request-Id"), std::vector<std::string>{"abc-123"});
}

}  // namespace
