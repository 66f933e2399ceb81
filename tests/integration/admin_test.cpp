// The admin surface as an operator uses it: the inventory, the OpenAPI
// document, runtime log levels, the reload trigger, the dashboard's files,
// and that none of it is reachable through the public listener.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

Response admin_get(const Daemon& d, const std::string& path) { return get(d.admin_url(path)); }

TEST(IntegrationAdmin, InventoryListsEveryPluginFileWithStateRoutesAndRedactedConfig) {
    Daemon d;
    fs::path broken = find_plugin_file(fixture_plugin_dir("abi-major"), "fixture_abi_major");
    ASSERT_TRUE(d.start(bundled_config()
                            .plugin_dir(fixture_plugin_dir("dup"))
                            .plugin_dir(fixture_plugin_dir("init-fails"))
                            .plugin_dir(fixture_plugin_dir("abi-major"))
                            .plugin("dup", "version: \"^1\", config: { token: \"${GREETING:-Howdy}\", "
                                           "db: { password: hunter2, host: db.local } }")
                            .plugin("echo", "enabled: false")));
    Response r = admin_get(d, "/v1/plugins");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << r.body;

    const auto& daemon = doc["daemon"];
    EXPECT_EQ(json_string(daemon, "public_url"), d.url(""));
    EXPECT_EQ(json_string(daemon, "admin_url"), d.admin_url(""));
    EXPECT_EQ(json_string(daemon, "abi"), kHostAbi);

    const auto* hello = find_by(doc["plugins"], "id", "hello");
    ASSERT_NE(hello, nullptr) << r.body;
    EXPECT_EQ(json_string(*hello, "state"), "running");
    EXPECT_EQ(json_string(*hello, "version"), "1.0.0");
    fs::path hello_file = find_plugin_file(bundled_plugin_dir(), "hello");
    EXPECT_EQ(json_string(*hello, "file"), hello_file.string());
    EXPECT_EQ(json_string(*hello, "sha256"), sha256sum(hello_file));
    EXPECT_EQ((*hello)["generation"].GetUint64(), 1u);
    const auto* route = find_by((*hello)["routes"], "pattern", "/:name");
    ASSERT_NE(route, nullptr);
    EXPECT_EQ(json_string(*route, "method"), "GET");
    EXPECT_EQ(json_string(*route, "summary"), "Greets :name");
    // The effective config: the schema's default filled in.
    EXPECT_EQ(json_string((*hello)["config"], "greeting"), "Hello");
    // Substituted values and credentials never leave the daemon.
    const auto* dup = find_by(doc["plugins"], "id", "dup");
    ASSERT_NE(dup, nullptr);
    const auto& config = (*dup)["config"];
    EXPECT_EQ(json_string(config, "token"), "[redacted]");
    EXPECT_EQ(json_string(config["db"], "password"), "[redacted]");
    EXPECT_EQ(json_string(config["db"], "host"), "db.local");
    EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
    EXPECT_EQ(r.body.find("Howdy"), std::string::npos);

    const auto* failed = find_by(doc["plugins"], "id", "init-fails");
    ASSERT_NE(failed, nullptr);
    EXPECT_EQ(json_string(*failed, "state"), "failed");
    EXPECT_EQ(json_string(*failed, "error"), "database unreachable");

    const auto& files = doc["files"];
    auto file_state = [&](const std::string& path) {
        const auto* f = find_by(files, "path", path);
        return f ? json_string(*f, "state").value_or("") : std::string("(absent)");
    };
    EXPECT_EQ(file_state(find_plugin_file(bundled_plugin_dir(), "echo").string()), "disabled");
    const auto* refused = find_by(files, "path", broken.string());
    ASSERT_NE(refused, nullptr) << r.body;
    EXPECT_EQ(json_string(*refused, "state"), "refused");
    EXPECT_NE(json_string(*refused, "reason").value_or("").find("built for plugin ABI 2.0"), std::string::npos);
    std::size_t skipped = 0;
    for (const auto& f : files.GetArray()) {
        if (json_string(f, "id") == "dup" && json_string(f, "state") == "skipped") {
            ++skipped;
            EXPECT_EQ(json_string(f, "version"), "2.0.0");
            EXPECT_NE(json_string(f, "reason").value_or("").find("version choice"), std::string::npos);
        }
    }
    EXPECT_EQ(skipped, 1u) << r.body;
    ASSERT_TRUE(doc["disabled"].IsArray());
    EXPECT_EQ(doc["disabled"][0].GetString(), std::string("echo"));
}

TEST(IntegrationAdmin, InventoryShowsANewGenerationAfterAReplacingReload) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("hello", "config: { greeting: One }")));
    d.write_config(bundled_config().plugin("hello", "config: { greeting: Two }"));
    Request reload;
    reload.method = "POST";
    reload.url = d.admin_url("/v1/reload");
    Response r = perform(reload);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json_string(parse_json(r.body), "result"), "success");
    EXPECT_NE(json_string(parse_json(r.body), "message").value_or("").find("1 replaced"), std::string::npos) << r.body;
    auto doc = parse_json(admin_get(d, "/v1/plugins").body);
    const auto* hello = find_by(doc["plugins"], "id", "hello");
    ASSERT_NE(hello, nullptr);
    EXPECT_EQ((*hello)["generation"].GetUint64(), 2u);
    EXPECT_EQ(doc["daemon"]["reload"]["successes"].GetUint64(), 1u);
    EXPECT_EQ(get(d.url("/api/hello/x")).body, "Two, x!\n");
}

TEST(IntegrationAdmin, ReloadTriggerSaysWhyAConfigurationWasRejected) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    d.write_file("kerberus.yaml", "server:\n  workers: many\n");
    Request reload;
    reload.method = "POST";
    reload.url = d.admin_url("/v1/reload");
    Response r = perform(reload);
    EXPECT_EQ(r.status, 422) << r.body;
    auto doc = parse_json(r.body);
    EXPECT_EQ(json_string(doc, "result"), "rejected");
    EXPECT_NE(json_string(doc, "message").value_or("").find("kerberus.yaml:2:12: server.workers"), std::string::npos)
        << r.body;
    auto inventory = parse_json(admin_get(d, "/v1/plugins").body);
    EXPECT_FALSE(inventory["daemon"]["reload"]["last_ok"].GetBool());
    // Only POST starts one.
    Response wrong = admin_get(d, "/v1/reload");
    EXPECT_TRUE(is_error_response(wrong, 405, "GET", "/v1/reload"));
    EXPECT_EQ(wrong.header("Allow"), "POST");
}

TEST(IntegrationAdmin, LogLevelChangesAtRuntimeUntilTheNextReload) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Request put;
    put.method = "PUT";
    put.url = d.admin_url("/v1/plugins/hello/log-level");
    put.body = "debug";
    Response set = perform(put);
    ASSERT_EQ(set.status, 200) << set.body;
    EXPECT_EQ(json_string(parse_json(set.body), "level"), "debug");
    EXPECT_EQ(json_string(parse_json(admin_get(d, "/v1/plugins/hello/log-level").body), "level"), "debug");

    put.body = "loud";
    Response bad = perform(put);
    EXPECT_TRUE(is_error_response(bad, 400, "PUT", "/v1/plugins/hello/log-level"));
    put.url = d.admin_url("/v1/plugins/nobody/log-level");
    put.body = "debug";
    EXPECT_TRUE(is_error_response(perform(put), 404, "PUT", "/v1/plugins/nobody/log-level"));

    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reloaded:"}));
    EXPECT_EQ(json_string(parse_json(admin_get(d, "/v1/plugins/hello/log-level").body), "level"), "info");
}

TEST(IntegrationAdmin, OpenApiDocumentDescribesEveryRoute) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Response r = admin_get(d, "/v1/openapi.json");
    ASSERT_EQ(r.status, 200);
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << r.body;
    EXPECT_EQ(json_string(doc, "openapi"), "3.1.0");
    EXPECT_EQ(json_string(doc["servers"][0], "url"), d.url(""));
    ASSERT_TRUE(doc["paths"].HasMember("/api/hello/{name}")) << r.body;
    const auto& get_name = doc["paths"]["/api/hello/{name}"]["get"];
    EXPECT_EQ(json_string(get_name, "summary"), "Greets :name");
    EXPECT_EQ(json_string(get_name["parameters"][0], "name"), "name");
    EXPECT_EQ(json_string(get_name["parameters"][0], "in"), "path");
    // A rest-of-path route, for any method.
    ASSERT_TRUE(doc["paths"].HasMember("/api/echo/{path}")) << r.body;
    EXPECT_TRUE(doc["paths"]["/api/echo/{path}"].HasMember("post"));
    EXPECT_TRUE(doc["paths"].HasMember("/api/hello/"));
}

// What the dashboard computes its rates from.
TEST(IntegrationAdmin, StatsCountPerRouteAndListRecentEvents) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("init-fails"))));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(get(d.url("/api/hello/x")).status, 200);
    ASSERT_EQ(get(d.url("/api/echo/status/418")).status, 418);
    ASSERT_EQ(get(d.url("/api/echo/status/502")).status, 502);
    auto doc = parse_json(admin_get(d, "/v1/stats").body);
    ASSERT_TRUE(doc.IsObject());
    EXPECT_TRUE(doc["ready"].GetBool());
    EXPECT_TRUE(doc.HasMember("started_at"));
    EXPECT_EQ(doc["latency_bounds_seconds"].Size() + 1, 15u);
    const auto* hello = find_by(doc["plugins"], "id", "hello");
    ASSERT_NE(hello, nullptr);
    const auto* name = find_by((*hello)["routes"], "pattern", "/:name");
    ASSERT_NE(name, nullptr);
    EXPECT_EQ((*name)["requests"].GetUint64(), 3u);
    uint64_t in_buckets = 0;
    for (const auto& b : (*name)["latency_buckets"].GetArray()) in_buckets += b.GetUint64();
    EXPECT_EQ(in_buckets, 3u);
    const auto* echo = find_by(doc["plugins"], "id", "echo");
    const auto* status = find_by((*echo)["routes"], "pattern", "/status/:code");
    EXPECT_EQ((*status)["client_errors"].GetUint64(), 1u);
    EXPECT_EQ((*status)["server_errors"].GetUint64(), 1u);
    // The failed plugin's error is among the recent events, newest first.
    bool seen = false;
    uint64_t last_id = UINT64_MAX;
    for (const auto& e : doc["events"].GetArray()) {
        seen = seen || (json_string(e, "source") == "kerberusd" &&
                        json_string(e, "message").value_or("").find("database unreachable") != std::string::npos);
        EXPECT_LT(e["id"].GetUint64(), last_id);
        last_id = e["id"].GetUint64();
    }
    EXPECT_TRUE(seen) << admin_get(d, "/v1/stats").body;
}

TEST(IntegrationAdmin, NothingOfItIsOnThePublicListener) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (const char* path : {"/metrics", "/v1/plugins", "/v1/openapi.json", "/v1/stats", "/"}) {
        EXPECT_EQ(get(d.url(path)).status, 404) << path;
        EXPECT_EQ(admin_get(d, path).status, 200) << path;
    }
    // And plugin routes are not on the admin one.
    EXPECT_EQ(admin_get(d, "/api/hello/x").status, 404);
    EXPECT_EQ(get(d.url("/api/hello/x")).status, 200);
}

TEST(IntegrationAdmin, DashboardFilesAreServedFromTheBinary) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Response page = admin_get(d, "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("/dashboard.js"), std::string::npos);
    EXPECT_EQ(admin_get(d, "/dashboard.js").header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(admin_get(d, "/dashboard.css").header("Content-Type"), "text/css; charset=utf-8");
}

TEST(IntegrationAdmin, ListensOnAUnixSocketWhenConfigured) {
    Daemon d;
    fs::path socket = d.dir() / "admin.sock";
    ASSERT_TRUE(d.start(bundled_config().admin("listen", "\"unix:" + socket.string() + "\"")));
    EXPECT_TRUE(d.wait_for_log({"admin surface on unix:" + socket.string()}));
    Request r;
    r.url = "http://localhost/v1/plugins";
    r.unix_socket = socket.string();
    Response inventory = perform(r);
    EXPECT_EQ(inventory.status, 200) << inventory.error;
    EXPECT_EQ(fs::status(socket).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::group_write);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0);
    EXPECT_FALSE(fs::exists(socket)) << "the socket file outlived the daemon";
}

TEST(IntegrationAdmin, TakenAdminPortFailsStartupNamingTheKey) {
    Daemon first;
    ASSERT_TRUE(first.start(bundled_config()));
    Daemon second;
    RunResult run = second.run_to_exit(
        {"--config", second.write_config(bundled_config().admin("listen", "\"127.0.0.1:" + std::to_string(first.admin_port()) + "\""))
                         .string()});
    EXPECT_EQ(run.status, 1);
    EXPECT_NE(run.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.admin_port())), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("admin.listen"), std::string::npos) << run.err;
}

TEST(IntegrationAdmin, RestartOnlySettingsAreNamedWhenAReloadChangesThem) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    d.write_config(bundled_config().server("workers", "3").server("idle_timeout", "5s"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reloaded:"}));
    auto lines = d.log_lines_with({"take effect only when kerberusd restarts"});
    ASSERT_EQ(lines.size(), 1u) << d.log();
    EXPECT_NE(lines[0].find("server.workers (2 -> 3)"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("server.idle_timeout (75000ms -> 5000ms)"), std::string::npos) << lines[0];
}

// --------------------------------------------------------------- access log

TEST(IntegrationAccessLog, TextLinesFollowTheCommonLogFormatWithExtras) {
    Daemon d;
    fs::path file = d.dir() / "access.log";
    ASSERT_TRUE(d.start(bundled_config().section("access_log", "{ enabled: true, path: \"" + file.string() + "\" }")));
    Request r;
    r.url = d.url("/api/hello/x?a=1");
    r.headers = {"X-Request-Id: req-1"};
    ASSERT_EQ(perform(r).status, 200);
    ASSERT_EQ(get(d.url("/api/nowhere")).status, 404);
    std::vector<std::string> lines;
    for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
        lines = split_lines(read_file(file));
        if (lines.size() >= 2) break;
    }
    ASSERT_EQ(lines.size(), 2u) << read_file(file);
    std::regex clf(R"(^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /api/hello/x\?a=1 HTTP/1\.1" 200 \d+ \d+\.\d{6} hello req-1$)");
    EXPECT_TRUE(std::regex_match(lines[0], clf)) << lines[0];
    std::regex no_plugin(R"(^127\.0\.0\.1 - - \[[^\]]+\] "GET /api/nowhere HTTP/1\.1" 404 \d+ \d+\.\d{6} - [0-9a-f]{32}$)");
    EXPECT_TRUE(std::regex_match(lines[1], no_plugin)) << lines[1];
}

TEST(IntegrationAccessLog, JsonLinesCarryTheSameFields) {
    Daemon d;
    fs::path file = d.dir() / "access.json";
    ASSERT_TRUE(d.start(
        bundled_config().section("access_log", "{ enabled: true, format: json, path: \"" + file.string() + "\" }")));
    ASSERT_EQ(post(d.url("/api/echo/x"), "body").status, 200);
    std::string text;
    for (auto until = Clock::now() + 3s; Clock::now() < until && text.empty(); std::this_thread::sleep_for(20ms)) {
        text = read_file(file);
    }
    auto doc = parse_json(split_lines(text).at(0));
    ASSERT_TRUE(doc.IsObject()) << text;
    EXPECT_EQ(json_string(doc, "remote"), "127.0.0.1");
    EXPECT_EQ(json_string(doc, "method"), "POST");
    EXPECT_EQ(json_string(doc, "target"), "/api/echo/x");
    EXPECT_EQ(json_string(doc, "protocol"), "HTTP/1.1");
    EXPECT_EQ(doc["status"].GetInt(), 200);
    EXPECT_GT(doc["bytes"].GetUint64(), 0u);
    EXPECT_TRUE(doc["duration_seconds"].IsNumber());
    EXPECT_EQ(json_string(doc, "plugin"), "echo");
    EXPECT_TRUE(std::regex_match(json_string(doc, "request_id").value_or(""), std::regex("[0-9a-f]{32}")));
    EXPECT_TRUE(std::regex_match(json_string(doc, "time").value_or(""), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST(IntegrationAccessLog, OffByDefault) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    ASSERT_EQ(get(d.url("/api/hello/x")).status, 200);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(d.out().find("GET /api/hello/x"), std::string::npos) << d.out();
}

}  // namespace
