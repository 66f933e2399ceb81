// Plugins written in Rust with the kerberus-plugin crate (plugin-api/rust):
// the bundled rust-greeter end to end, and what the crate promises beyond
// plugin.h, through the abi-contract-rust fixture: panics and errors never
// reach the host, a dropped kept request answers 500, kept requests and
// streams go inert after stop, fetch completions answer kept requests,
// streams wait for slow clients and their event closures may end them, and
// the built files export the entry symbol alone.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "daemon.h"
#include "http_client.h"
#include "upstream_server.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

// The value of the sample line starting with `series` ("name{labels}").
std::optional<double> sample(const std::string& text, const std::string& series) {
    for (const auto& line : split_lines(text)) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return std::nullopt;
}

// What `command` prints on stdout, and whether it exited 0.
std::pair<bool, std::string> run(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {false, ""};
    std::string out;
    char buffer[512];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    int status = ::pclose(pipe);
    return {WIFEXITED(status) && WEXITSTATUS(status) == 0, out};
}

fs::path greeter_file() { return find_plugin_file(bundled_plugin_dir(), "rust-greeter"); }
fs::path contract_file() { return find_plugin_file(fixture_plugin_dir("abi-contract-rust"), "fixture_abi_contract_rust"); }

ConfigBuilder contract_config() { return bundled_config().plugin_dir(fixture_plugin_dir("abi-contract-rust")); }

// Waits until `count` log lines hold every needle.
bool wait_for_lines(const Daemon& d, const std::vector<std::string>& needles, std::size_t count,
                    std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (d.log_lines_with(needles).size() < count) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

}  // namespace

// ------------------------------------------------------------------ files

// As kerberus_add_plugin does for C and C++ (and tests/install checks for
// the installed ones): a plugin exports its entry symbol and nothing else.
TEST(IntegrationRustPlugins, BuiltFilesAreVersionedAndExportOnlyTheEntrySymbol) {
    for (const fs::path& file : {greeter_file(), contract_file()}) {
        ASSERT_FALSE(file.empty()) << "Rust plugin not built";
        EXPECT_EQ(file.filename().string().find(".so.1.0.0"), file.filename().string().size() - 9) << file;
        auto [ok, symbols] = run("nm -D --defined-only '" + file.string() + "' | awk '{ print $NF }'");
        ASSERT_TRUE(ok) << file;
        EXPECT_EQ(symbols, "kerberus_plugin_v1\n") << file;
    }
}

TEST(IntegrationRustPlugins, CheckListsTheGreeterWithItsVersionAndAbi) {
    Daemon d;
    auto check = d.run_to_exit({"--check", "--config", d.write_config(bundled_config()).string()});
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    std::string row;
    for (const auto& line : split_lines(check.out)) {
        if (line.find("rust-greeter") != std::string::npos) row = line;
    }
    EXPECT_NE(row.find("1.0.0"), std::string::npos) << check.out;
    EXPECT_NE(row.find(kHostAbi), std::string::npos) << check.out;
}

// ---------------------------------------------------------------- greeter

TEST(IntegrationRustGreeter, HelloGreetsTheDecodedPathParameter) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/rust-greeter/hello/ann"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "Hello, ann!\n");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain; charset=utf-8");
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/J%C3%B6rg%20K")).body, "Hello, Jörg K!\n");
    // Not UTF-8 once decoded: the crate's text accessors replace it.
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/a%FFb")).body, "Hello, a\xEF\xBF\xBD" "b!\n");
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/")).status, 404);
}

TEST(IntegrationRustGreeter, AuthenticationThroughTheCrate) {
    // Route::allow_unauthenticated opens /whoami; Request::caller names who
    // called; every other route needs the token.
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().section(
        "auth", "{ externalAccess: [ { type: static, options: { token: rust-token-123, subject: ferris } } ] }")));
    EXPECT_EQ(get(d.url("/api/rust-greeter/whoami")).body, "nobody\n");
    Request with_token;
    with_token.url = d.url("/api/rust-greeter/whoami");
    with_token.headers = {"Authorization: Bearer rust-token-123"};
    EXPECT_EQ(perform(with_token).body, "ferris (static)\n");
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/ann")).status, 401);
    with_token.url = d.url("/api/rust-greeter/hello/ann");
    EXPECT_EQ(perform(with_token).status, 200);
}

TEST(IntegrationRustGreeter, ConfigSetsTheGreetingAndSettingsAnswersItAsJson) {
    Daemon d;
    // Quotes, a backslash and a tab: the JSON answer must stay well-formed.
    ASSERT_TRUE(d.start(bundled_config().plugin(
        "rust-greeter", R"(config: { greeting: "Hi \"you\" \\ \t", shout: true, delay_ms: 25 })")));
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/ann")).body, "HI \"YOU\" \\ \t, ann!\n");

    auto r = get(d.url("/api/rust-greeter/settings"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc, "greeting"), "Hi \"you\" \\ \t");
    EXPECT_TRUE(doc["shout"].IsBool() && doc["shout"].GetBool()) << r.body;
    EXPECT_EQ(doc["delay_ms"].GetInt(), 25) << r.body;
    // config_json: the namespace as the host has it.
    ASSERT_TRUE(doc["config"].IsObject()) << r.body;
    EXPECT_EQ(json_string(doc["config"], "greeting"), "Hi \"you\" \\ \t");
    EXPECT_EQ(doc["config"]["delay_ms"].GetInt(), 25) << r.body;
}

TEST(IntegrationRustGreeter, DefaultsApplyWithoutConfig) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto doc = parse_json(get(d.url("/api/rust-greeter/settings")).body);
    ASSERT_TRUE(doc.IsObject());
    EXPECT_EQ(json_string(doc, "greeting"), "Hello");
    EXPECT_FALSE(doc["shout"].GetBool());
    EXPECT_EQ(doc["delay_ms"].GetInt(), 100);
    EXPECT_EQ(doc["config"].MemberCount(), 0u);
}

TEST(IntegrationRustGreeter, ConfigOfTheWrongTypeOrRangeFailsInitWithTheKeyNamed) {
    for (const auto& [config, needle] : std::vector<std::pair<std::string, std::string>>{
             {"config: { greeting: { not: a string } }", "config key 'greeting': KERBERUS_ERR_WRONG_TYPE"},
             {"config: { delay_ms: 99999 }", "config key 'delay_ms' must be 0..10000, got 99999"},
         }) {
        Daemon d;
        ASSERT_TRUE(d.start(bundled_config().plugin("rust-greeter", config)));
        EXPECT_EQ(d.log_lines_with({"failed to start", needle}).size(), 1u) << d.log();
        EXPECT_TRUE(is_error_response(get(d.url("/api/rust-greeter/hello/x")), 503, "GET", "/api/rust-greeter/hello/x"));
        EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
    }
}

TEST(IntegrationRustGreeter, LaterAnswersFromThePluginsThreadAfterTheDelay) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("rust-greeter", "config: { delay_ms: 200 }")));
    auto started = Clock::now();
    std::vector<std::future<Response>> answers;
    for (int i = 0; i < 8; ++i) {
        answers.push_back(std::async(std::launch::async, [&d, i] {
            return get(d.url("/api/rust-greeter/later/n" + std::to_string(i)));
        }));
    }
    for (int i = 0; i < 8; ++i) {
        auto r = answers[i].get();
        EXPECT_EQ(r.status, 200) << r.error << r.body;
        EXPECT_EQ(r.body, "Hello, n" + std::to_string(i) + "!\n");
    }
    EXPECT_GE(elapsed_ms(started), 190);
    // Eight waits of 200 ms on one thread that never blocks a worker: the
    // answers come together, not one after another.
    EXPECT_LT(elapsed_ms(started), 1500);
}

// The daemon answers what is still in flight 503 once its shutdown_timeout
// has passed, then stops the plugin: stop() must wake the worker out of its
// 10 s wait and join it, and the worker's answer to the request the daemon
// already answered must do no harm.
TEST(IntegrationRustGreeter, StopWakesTheWorkerWhileRequestsAreStillQueued) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()
                            .log_level("debug")
                            .server("shutdown_timeout", "500ms")
                            .plugin("rust-greeter", "config: { delay_ms: 10000 }")));
    auto kept = std::async(std::launch::async, [&] { return get(d.url("/api/rust-greeter/later/ann")); });
    ASSERT_TRUE(d.wait_for_log({"[rust-greeter]", "later: queued /later/ann"})) << d.log();
    auto signalled = Clock::now();
    d.signal(SIGTERM);
    auto r = kept.get();
    EXPECT_TRUE(is_error_response(r, 503, "GET", "/api/rust-greeter/later/ann"));
    EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
    EXPECT_LT(elapsed_ms(signalled), 5000);
    EXPECT_TRUE(d.log_lines_with({"dropped without an answer"}).empty()) << d.log();
}

TEST(IntegrationRustGreeter, PanickingHandlerIsAnswered500AndLogged) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/rust-greeter/panic"));
    EXPECT_TRUE(is_error_response(r, 500, "GET", "/api/rust-greeter/panic"));
    EXPECT_TRUE(d.wait_for_log(
        {"[rust-greeter]", "GET /panic: handler panicked: the greeter was asked to panic"}, 2s))
        << d.log();
    // The plugin and the daemon carry on.
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/again")).body, "Hello, again!\n");
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}

TEST(IntegrationRustGreeter, GreetingsAreCountedInThePluginsMetric) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("rust-greeter", "config: { delay_ms: 0 }")));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(get(d.url("/api/rust-greeter/hello/x")).status, 200);
    ASSERT_EQ(get(d.url("/api/rust-greeter/later/y")).status, 200);
    auto r = get(d.admin_url("/metrics"));
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(sample(r.body, R"(kerberus_plugin_rust_greeter_greetings_total{plugin="rust-greeter",route="hello"})"), 3)
        << r.body;
    EXPECT_EQ(sample(r.body, R"(kerberus_plugin_rust_greeter_greetings_total{plugin="rust-greeter",route="later"})"), 1);
    EXPECT_NE(r.body.find("# HELP kerberus_plugin_rust_greeter_greetings_total Greetings sent, by route"),
              std::string::npos);
}

TEST(IntegrationRustGreeter, InventoryShowsTheRoutesWithTheirSummariesAndHealth) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.admin_url("/v1/plugins"));
    ASSERT_EQ(r.status, 200) << r.error;
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << r.body;
    const auto* greeter = find_by(doc["plugins"], "id", "rust-greeter");
    ASSERT_NE(greeter, nullptr) << r.body;
    EXPECT_EQ(json_string(*greeter, "state"), "running");
    EXPECT_EQ(json_string(*greeter, "version"), "1.0.0");
    EXPECT_EQ(json_string(*greeter, "description"), "Greets in Rust, now or a little later");
    const auto* hello = find_by((*greeter)["routes"], "pattern", "/hello/:name");
    ASSERT_NE(hello, nullptr) << r.body;
    EXPECT_EQ(json_string(*hello, "method"), "GET");
    EXPECT_EQ(json_string(*hello, "summary"), "Greets :name");
    EXPECT_EQ((*greeter)["routes"].Size(), 5u) << r.body;

    auto ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_EQ(ready.status, 200) << ready.body;
    auto health = parse_json(ready.body);
    ASSERT_TRUE(health.IsObject()) << ready.body;
    const auto* entry = find_by(health["plugins"], "id", "rust-greeter");
    ASSERT_NE(entry, nullptr) << ready.body;
    EXPECT_EQ(json_string(*entry, "state"), "running") << ready.body;
}

// ------------------------------------------------- the crate's boundaries

TEST(IntegrationRustSdk, HandlerPanicsAndErrorsAre500WithTheMessageLogged) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    struct Case {
        std::string route;
        std::string line;
    };
    for (const auto& c : std::vector<Case>{
             {"/panic", "GET /panic: handler panicked: handler panicked on purpose"},
             {"/err", "GET /err: handler failed: handler failed on purpose"},
             {"/visit-panic", "GET /visit-panic: handler panicked: visitor panicked on purpose"},
             {"/panic-after-keep", "handler panicked after keep(): panicked after keep on purpose"},
         }) {
        std::string path = "/api/abi-contract-rust" + c.route;
        EXPECT_TRUE(is_error_response(get(d.url(path)), 500, "GET", path)) << c.route;
        EXPECT_TRUE(d.wait_for_log({"[abi-contract-rust]", c.line}, 2s)) << c.route << "\n" << d.log();
    }
    // The request kept before the panic was dropped with it, and answered.
    EXPECT_TRUE(d.wait_for_log({"GET /panic-after-keep: request kept but dropped without an answer"}, 2s)) << d.log();
    EXPECT_EQ(get(d.url("/api/abi-contract-rust/header")).body, "absent");
}

TEST(IntegrationRustSdk, UnansweredRequestGetsTheHosts500) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    EXPECT_TRUE(is_error_response(get(d.url("/api/abi-contract-rust/unanswered")), 500, "GET",
                                  "/api/abi-contract-rust/unanswered"));
    EXPECT_TRUE(d.wait_for_log({"abi-contract-rust", "without responding"}, 2s)) << d.log();
}

TEST(IntegrationRustSdk, KeptRequestDroppedUnansweredAnswers500Itself) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    auto r = get(d.url("/api/abi-contract-rust/drop-pending"));
    EXPECT_TRUE(is_error_response(r, 500, "GET", "/api/abi-contract-rust/drop-pending"));
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << r.body;
    EXPECT_EQ(json_string(doc["error"], "message"), "the plugin dropped this request without answering it");
    EXPECT_TRUE(d.wait_for_log({"[abi-contract-rust]", "GET /drop-pending: request kept but dropped"}, 2s)) << d.log();
}

TEST(IntegrationRustSdk, EveryRequestAccessorReadsWhatTheClientSent) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    Request req;
    req.method = "GET";
    req.url = d.url("/api/abi-contract-rust/request/x%20y/rest/of%20it?q=a+b&q=2&z=%22");
    req.headers = {"X-Probe: probe \"value\"", "X-Request-Id: rust-test-1"};
    req.body = std::string("body \\ \"quoted\"\n");
    auto r = perform(req);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc, "method"), "GET");
    EXPECT_EQ(json_string(doc, "path"), "/request/x y/rest/of it");
    EXPECT_EQ(json_string(doc, "raw_path"), "/api/abi-contract-rust/request/x%20y/rest/of%20it");
    EXPECT_EQ(json_string(doc, "a"), "x y");
    EXPECT_EQ(json_string(doc, "rest"), "rest/of it");
    EXPECT_TRUE(doc["missing"].IsNull()) << r.body;
    EXPECT_EQ(json_string(doc, "query"), "q=a+b&q=2&z=%22");
    EXPECT_EQ(json_string(doc, "q"), "a b");
    ASSERT_TRUE(doc["query_params"].IsArray() && doc["query_params"].Size() == 3) << r.body;
    EXPECT_EQ(doc["query_params"][1][1].GetString(), std::string("2"));
    EXPECT_EQ(doc["query_params"][2][1].GetString(), std::string("\""));
    EXPECT_EQ(json_string(doc, "x_probe"), "probe \"value\"");
    bool saw_probe = false;
    for (const auto& h : doc["headers"].GetArray()) {
        if (std::string(h[0].GetString()) == "X-Probe") saw_probe = std::string(h[1].GetString()) == "probe \"value\"";
    }
    EXPECT_TRUE(saw_probe) << r.body;
    EXPECT_EQ(json_string(doc, "body"), "body \\ \"quoted\"\n");
    EXPECT_EQ(json_string(doc, "remote_address"), "127.0.0.1");
    EXPECT_EQ(json_string(doc, "request_id"), "rust-test-1");
    EXPECT_EQ(r.header("X-Request-Id").value_or(""), "rust-test-1");
}

TEST(IntegrationRustSdk, FetchCompletionAnswersTheKeptRequest) {
    UpstreamServer upstream;
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    Request req;
    req.url = d.url("/api/abi-contract-rust/fetch?url=" + upstream.url("/status/418"));
    req.headers = {"X-Request-Id: fetch-id-7"};
    auto r = perform(req);
    EXPECT_EQ(r.status, 418) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->target, "/status/418");
    // The id travels on, as the crate's request_id() read it.
    EXPECT_EQ(seen->header("X-Request-Id"), "fetch-id-7");

    auto body = get(d.url("/api/abi-contract-rust/fetch?url=" + upstream.url("/things")));
    EXPECT_EQ(body.status, 200);
    auto doc = parse_json(body.body);
    ASSERT_TRUE(doc.IsObject()) << body.body;
    EXPECT_EQ(json_string(doc, "target"), "/things");
}

TEST(IntegrationRustSdk, FetchTheHostRefusesCompletesAtOnceWithTheReason) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    auto r = get(d.url("/api/abi-contract-rust/fetch?url=not-a-url"));
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_EQ(r.body, "fetch failed: KERBERUS_ERR_INVALID: the host refused the request (bad method, URL or header)");
    EXPECT_TRUE(d.wait_for_log({"[abi-contract-rust]", "fetch GET: the host refused the request"}, 2s)) << d.log();
}

TEST(IntegrationRustSdk, PanickingFetchCompletionIsLoggedAndItsKeptRequestAnswered500) {
    UpstreamServer upstream;
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    auto r = get(d.url("/api/abi-contract-rust/fetch-panic?url=" + upstream.url("/x")));
    EXPECT_TRUE(is_error_response(r, 500, "GET", "/api/abi-contract-rust/fetch-panic"));
    EXPECT_TRUE(d.wait_for_log({"[abi-contract-rust]", "fetch completion panicked: completion panicked on purpose"}, 2s))
        << d.log();
    EXPECT_EQ(get(d.url("/api/abi-contract-rust/header")).status, 200);
}

TEST(IntegrationRustSdk, KeptRequestsAreInertAfterStop) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config().server("shutdown_timeout", "1s")));
    auto kept = std::async(std::launch::async, [&] { return get(d.url("/api/abi-contract-rust/hold")); });
    ASSERT_TRUE(d.wait_for_log({"[abi-contract-rust]", "holding /hold"})) << d.log();
    d.signal(SIGTERM);
    auto r = kept.get();
    EXPECT_TRUE(is_error_response(r, 503, "GET", "/api/abi-contract-rust/hold"));
    EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
    // Answering after stop touched nothing: the crate knew the host had
    // freed the request, and dropping it was silent.
    EXPECT_EQ(d.log_lines_with({"[abi-contract-rust]", "after stop: KERBERUS_ERR_EXPIRED pending=false"}).size(), 1u)
        << d.log();
    EXPECT_TRUE(d.log_lines_with({"dropped without an answer"}).empty()) << d.log();
}

TEST(IntegrationRustSdk, PanickingInitFailsThePluginWithThePanicMessage) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config().plugin("abi-contract-rust", "config: { fail: init-panic }")));
    EXPECT_EQ(d.log_lines_with({"failed to start", "init panicked: init panicked on purpose"}).size(), 1u) << d.log();
    EXPECT_TRUE(is_error_response(get(d.url("/api/abi-contract-rust/init")), 503, "GET", "/api/abi-contract-rust/init"));
    auto inventory = parse_json(get(d.admin_url("/v1/plugins")).body);
    ASSERT_TRUE(inventory.IsObject());
    const auto* failed = find_by(inventory["plugins"], "id", "abi-contract-rust");
    ASSERT_NE(failed, nullptr);
    EXPECT_EQ(json_string(*failed, "state"), "failed");
    EXPECT_EQ(json_string(*failed, "error"), "init panicked: init panicked on purpose");
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/x")).status, 200);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationRustSdk, InitErrorFailsThePluginWithItsMessage) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config().plugin("abi-contract-rust", "config: { fail: init-error }")));
    EXPECT_EQ(d.log_lines_with({"failed to start", "init failed on purpose"}).size(), 1u) << d.log();
    EXPECT_EQ(get(d.url("/api/abi-contract-rust/init")).status, 503);
}

TEST(IntegrationRustSdk, PanickingHealthIsUnhealthyWithThePanicMessage) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()
                            .section("health", "{ interval: 100ms, timeout: 600ms }")
                            .plugin("abi-contract-rust", "config: { fail: health-panic }")));
    EXPECT_TRUE(d.wait_for_log({"plugin abi-contract-rust is unhealthy: health panicked: health panicked on purpose"}))
        << d.log();
    // Handlers are unaffected.
    EXPECT_EQ(get(d.url("/api/abi-contract-rust/header")).body, "absent");
}

TEST(IntegrationRustSdk, PanickingStopIsLoggedAndTheDaemonExitsCleanly) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config().plugin("abi-contract-rust", "config: { fail: stop-panic }")));
    EXPECT_EQ(get(d.url("/api/abi-contract-rust/late-async")).body, "/late-async");
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
    EXPECT_EQ(d.log_lines_with({"[abi-contract-rust]", "stop panicked: stop panicked on purpose"}).size(), 1u) << d.log();
}

TEST(IntegrationRustSdk, ReloadReplacesARustPluginAndKeepsServing) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/a")).body, "Hello, a!\n");
    d.write_config(bundled_config().plugin("rust-greeter", "config: { greeting: Hej }"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reloaded:"})) << d.log();
    EXPECT_EQ(get(d.url("/api/rust-greeter/hello/a")).body, "Hej, a!\n");
    EXPECT_EQ(get(d.url("/api/rust-greeter/later/b")).body, "Hej, b!\n");
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
}

// ------------------------------------------------------ streamed responses

// A client that stops reading holds the writer back: the crate's write
// says Busy, and the closure's Writable event lets the thread go on once
// the client reads.
TEST(IntegrationRustSdk, ASlowClientMakesTheStreamWaitForWritable) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/abi-contract-rust/stream/500000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    // Nothing read yet: once the connection holds all it can, writes say Busy.
    ASSERT_TRUE(d.wait_for_log({"[abi-contract-rust]", "a stream waits for the client"}, 20s)) << d.log();
    auto r = c.read_response(30s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->body.ends_with("\nline 499999\n"));
    EXPECT_TRUE(d.wait_for_log({"[abi-contract-rust]", "streamed 500000 lines", "end=KERBERUS_OK"}, 5s)) << d.log();
}

// The event closure may own its stream and end it from inside (the crate
// keeps the closure until it returns); a panic after that is logged.
TEST(IntegrationRustSdk, AnEventClosureMayEndItsOwnStreamAndItsPanicIsLogged) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    for (int i = 0; i < 3; ++i) {
        RawConnection c(d.port());
        ASSERT_TRUE(c.send("GET /api/abi-contract-rust/stream-event-end HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_TRUE(c.read_until("open\n", 5s)) << c.received();
        c.close();
    }
    EXPECT_TRUE(wait_for_lines(d, {"[abi-contract-rust]", "stream ended in its closed event: KERBERUS_OK"}, 3, 5s))
        << d.log();
    EXPECT_TRUE(wait_for_lines(
        d, {"[abi-contract-rust]", "stream event handler panicked: stream event handler panicked on purpose"}, 3, 5s))
        << d.log();
    EXPECT_EQ(get(d.url("/api/abi-contract-rust/header")).body, "absent");
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
}

// A handler that panics mid-stream drops its stream while unwinding: the
// crate cuts it off (no last chunk) instead of ending it, so the half-made
// answer does not look complete.
TEST(IntegrationRustSdk, AStreamDroppedByAPanicIsCutOffNotEnded) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/abi-contract-rust/stream-panic HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string wire = c.read_to_close(5s);
    EXPECT_NE(wire.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\n8\r\npartial\n\r\n")) << wire;
    EXPECT_TRUE(d.wait_for_log({"[abi-contract-rust]", "handler panicked after keep(): panicked mid-stream on purpose"}, 2s))
        << d.log();
}

// A stream still open when the plugin stops is cut off by the host (the
// client sees no last chunk); the crate's calls after stop touch nothing.
TEST(IntegrationRustSdk, StreamsAreCutOffAtStopAndInertAfterIt) {
    Daemon d;
    ASSERT_TRUE(d.start(contract_config().server("shutdown_timeout", "300ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/abi-contract-rust/stream-hold HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(c.read_until("held\n", 5s)) << c.received();
    ASSERT_TRUE(d.wait_for_log({"[abi-contract-rust]", "holding a stream"})) << d.log();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0) << d.log();
    std::string wire = c.received() + c.read_to_close(2s);
    EXPECT_TRUE(wire.ends_with("5\r\nheld\n\r\n")) << wire;  // no last chunk: incomplete
    EXPECT_EQ(d.log_lines_with({"[abi-contract-rust]", "after stop: stream write=KERBERUS_ERR_EXPIRED "
                                                       "end=KERBERUS_ERR_EXPIRED"})
                  .size(),
              1u)
        << d.log();
}
