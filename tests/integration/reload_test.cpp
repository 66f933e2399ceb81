// SIGHUP: new configuration and plugin files take effect without a restart,
// and without failing a single request.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <thread>
#include <vector>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path copy_plugin(const fs::path& from_dir, std::string_view prefix, const fs::path& to_dir) {
    fs::path file = find_plugin_file(from_dir, prefix);
    fs::path to = to_dir / file.filename();
    fs::copy_file(file, to, fs::copy_options::overwrite_existing);
    return to;
}

fs::path dup_file(const std::string& version) { return fixture_plugin_dir("dup") / ("dup.so." + version); }

class IntegrationReload : public ::testing::Test {
protected:
    void SetUp() override {
        plugins = d.dir() / "plugins";
        fs::create_directories(plugins);
        copy_plugin(bundled_plugin_dir(), "hello", plugins);
        copy_plugin(bundled_plugin_dir(), "echo", plugins);
        fs::copy_file(dup_file("1.0.0"), plugins / "dup.so.1.0.0");
    }
    ConfigBuilder config(const std::string& greeting) const {
        return ConfigBuilder().plugin_dir(plugins).plugin("hello", "config: { greeting: " + greeting + " }");
    }
    Daemon d;
    fs::path plugins;
};

}  // namespace

TEST_F(IntegrationReload, AddsUpgradesAndRemovesPlugins) {
    ASSERT_TRUE(d.start(config("Hi")));
    EXPECT_EQ(get(d.url("/api/dup/")).body, "1.0.0");

    fs::copy_file(dup_file("2.0.0"), plugins / "dup.so.2.0.0");
    copy_plugin(fixture_plugin_dir("abi-1-0"), "fixture_abi_1_0", plugins);
    fs::remove(plugins / find_plugin_file(plugins, "echo").filename());
    ASSERT_TRUE(reload(d));

    EXPECT_EQ(get(d.url("/api/dup/")).body, "2.0.0");
    EXPECT_EQ(get(d.url("/api/abi-one-zero/")).status, 200);
    EXPECT_EQ(get(d.url("/api/echo/x")).status, 404);
    EXPECT_EQ(get(d.url("/api/hello/")).body, "Hi, world!\n");
    EXPECT_EQ(d.log_lines_with({"reloaded:", "1 started", "1 replaced", "1 stopped"}).size(), 1u) << d.log();
}

TEST_F(IntegrationReload, ChangedSettingsGetAFreshInstance) {
    ASSERT_TRUE(d.start(config("Hi")));
    EXPECT_EQ(get(d.url("/api/hello/a")).body, "Hi, a!\n");
    d.write_config(config("Howdy"));
    ASSERT_TRUE(reload(d));
    EXPECT_EQ(get(d.url("/api/hello/a")).body, "Howdy, a!\n");
    EXPECT_EQ(d.log_lines_with({"reloaded:", "1 replaced", "2 unchanged"}).size(), 1u) << d.log();
}

TEST_F(IntegrationReload, InvalidConfigLeavesTheRunningOneUntouched) {
    ASSERT_TRUE(d.start(config("Hi")));
    d.write_file("kerberus.yaml", "server:\n  workers: many\n");
    ASSERT_TRUE(reload(d));
    auto lines = d.log_lines_with({"reload failed", "kerberus.yaml:2:", "server.workers"});
    EXPECT_EQ(lines.size(), 1u) << d.log();
    EXPECT_EQ(get(d.url("/api/hello/a")).body, "Hi, a!\n");
    EXPECT_EQ(get(d.url("/api/dup/")).status, 200);
}

// yaml-cpp 0.7's own loader never got past ",\n" and the daemon allocated
// until it was killed.
TEST_F(IntegrationReload, ConfigTheParserCannotGetPastLeavesTheRunningOneUntouched) {
    ASSERT_TRUE(d.start(config("Hi")));
    d.write_file("kerberus.yaml", ",\n");
    ASSERT_TRUE(reload(d));
    auto lines = d.log_lines_with({"reload failed", "kerberus.yaml:1:1: YAML syntax error: unexpected ','"});
    EXPECT_EQ(lines.size(), 1u) << d.log();
    EXPECT_EQ(get(d.url("/api/hello/a")).body, "Hi, a!\n");
    EXPECT_EQ(get(d.url("/api/dup/")).status, 200);
    EXPECT_TRUE(d.running());
}

TEST_F(IntegrationReload, PluginThatFailsOnReloadKeepsItsPreviousVersionServing) {
    ASSERT_TRUE(d.start(config("Hi")));
    d.write_config(config("Hi").plugin("dup", "config: { refuse_init: true }"));
    ASSERT_TRUE(reload(d));
    // One story, told once, matching what clients see: the new instance
    // failed, the running version keeps serving, and nothing says 503.
    auto story = d.log_lines_with({"plugin dup: the new instance (version 1.0.0) failed to start: told to refuse",
                                   "version 1.0.0 keeps serving"});
    EXPECT_EQ(story.size(), 1u) << d.log();
    EXPECT_TRUE(d.log_lines_with({"dup", "503"}).empty()) << d.log();
    EXPECT_FALSE(d.log_lines_with({"reloaded:", "0 failed, 1 kept their running version after the new one failed"}).empty())
        << d.log();
    EXPECT_EQ(get(d.url("/api/dup/")).body, "1.0.0");

    // A setting hello's config schema refuses rejects the whole reload.
    d.write_config(config("{ not: a-string }"));
    ASSERT_TRUE(reload(d));
    EXPECT_EQ(d.log_lines_with({"reload failed", "kerberus.yaml:", "plugins.hello.config.greeting",
                                "expected a string, got a map"})
                  .size(),
              1u)
        << d.log();
    EXPECT_EQ(get(d.url("/api/hello/a")).body, "Hi, a!\n");
}

TEST_F(IntegrationReload, RequestInsideTheOldInstanceFinishesOnIt) {
    ASSERT_TRUE(d.start(config("Hi").plugin("echo", "config: { generation: 1 }")));
    Response slow;
    std::thread t([&] { slow = get(d.url("/api/echo/delay?ms=800")); });
    std::this_thread::sleep_for(200ms);
    d.write_config(config("Hi").plugin("echo", "config: { generation: 2 }"));
    ASSERT_TRUE(reload(d));
    t.join();
    EXPECT_EQ(slow.status, 200) << slow.error << slow.body;
    EXPECT_NE(slow.body.find("\"delayed_ms\":800"), std::string::npos) << slow.body;
}

// Clients hammer the daemon over keep-alive connections while plugins are
// added, upgraded, reconfigured and removed; not one request may fail.
TEST_F(IntegrationReload, ZeroFailedRequestsUnderLoad) {
    ASSERT_TRUE(d.start(config("Hi")));
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::string> failures;
    std::mutex failures_mutex;
    std::vector<std::thread> clients;
    const std::vector<std::string> paths = {"/api/hello/load", "/api/dup/", "/api/echo/delay?ms=20"};
    for (int c = 0; c < 4; ++c) {
        clients.emplace_back([&, c] {
            Session session;
            for (int i = 0; !stop.load(); ++i) {
                Request req;
                req.url = d.url(paths[static_cast<std::size_t>(c + i) % paths.size()]);
                auto r = session.perform(req);
                if (r.status == 200) {
                    ++ok;
                } else {
                    ++failed;
                    std::lock_guard lock(failures_mutex);
                    if (failures.size() < 5) failures.push_back(req.url + " -> " + std::to_string(r.status) + " " + r.error);
                }
            }
        });
    }
    std::this_thread::sleep_for(200ms);
    fs::copy_file(dup_file("2.0.0"), plugins / "dup.so.2.0.0");
    EXPECT_TRUE(reload(d));
    d.write_config(config("Howdy"));
    EXPECT_TRUE(reload(d));
    copy_plugin(fixture_plugin_dir("abi-1-0"), "fixture_abi_1_0", plugins);
    EXPECT_TRUE(reload(d));
    fs::remove(plugins / "dup.so.1.0.0");
    EXPECT_TRUE(reload(d));
    d.write_config(config("Hello"));
    EXPECT_TRUE(reload(d));
    std::this_thread::sleep_for(200ms);
    stop = true;
    for (auto& t : clients) t.join();
    EXPECT_EQ(failed.load(), 0) << ::testing::PrintToString(failures);
    EXPECT_GT(ok.load(), 100);
    EXPECT_EQ(get(d.url("/api/dup/")).body, "2.0.0");
    EXPECT_EQ(get(d.url("/api/hello/")).body, "Hello, world!\n");
    EXPECT_TRUE(d.running());
}

// A plugin may answer from a thread of its own before its handler returns.
// Its worker then moves on to other requests while that thread is still
// inside respond(); the request must still leave the instance it entered,
// or a reload that replaces the instance waits server.shutdown_timeout for
// it. The send gate holds the answering thread right after its bytes went
// out, until the worker has answered a request on another connection.
TEST_F(IntegrationReload, AnswerSentWhileTheHandlerRunsLeavesTheInstance) {
    d.set_env("LD_PRELOAD", send_gate_path().string());
    auto with_answer_early = [&](const std::string& generation) {
        return config("Hi")
            .server("workers", "1")  // every connection on one worker thread
            .server("shutdown_timeout", "3s")
            .plugin_dir(fixture_plugin_dir("answer-early"))
            .plugin("answer-early", "config: { generation: " + generation + " }");
    };
    ASSERT_TRUE(d.start(with_answer_early("1")));

    RawConnection early_connection(d.port());
    ASSERT_TRUE(early_connection.send("GET /api/answer-early/ HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto early = early_connection.read_response();
    ASSERT_TRUE(early.has_value());
    EXPECT_EQ(early->status, 200) << early->body;
    EXPECT_EQ(early->body, "answered early\n");
    // Served by the same worker while the early answer's thread is held;
    // its answer releases that thread.
    EXPECT_EQ(get(d.url("/api/hello/next")).body, "Hi, next!\n");

    d.write_config(with_answer_early("2"));
    ASSERT_TRUE(reload(d));
    EXPECT_TRUE(d.log_lines_with({"still has", "in flight"}).empty()) << d.log();
    EXPECT_EQ(d.log_lines_with({"reloaded:", "1 replaced"}).size(), 1u) << d.log();
    EXPECT_EQ(get(d.url("/api/hello/after")).body, "Hi, after!\n");
}
