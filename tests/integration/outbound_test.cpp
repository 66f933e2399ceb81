// The host's outbound HTTP client (ABI 1.1) seen through the fetcher fixture
// plugin: what outbound_send delivers to the completion callback for every
// kind of ending, what reaches the upstream, and that connections are pooled.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <vector>

#include "daemon.h"
#include "http_client.h"
#include "upstream_server.h"

namespace kerberus::test {
namespace {

// Status codes of plugin.h, which this target does not include.
constexpr int kOk = 0;
constexpr int kErrInvalid = -1;
constexpr int kErrTooLarge = -7;
constexpr int kErrUnreachable = -9;
constexpr int kErrTimeout = -10;

// The fetcher's answer: "result=R status=S bytes=B\n" then the upstream body
// (or the error text).
struct Fetched {
    int result = 1;  // an impossible code until parsed
    int status = -1;
    std::size_t bytes = 0;
    std::string rest;
};

std::optional<Fetched> parse_fetched(const std::string& body) {
    Fetched f;
    unsigned long bytes = 0;
    auto eol = body.find('\n');
    if (eol == std::string::npos) return std::nullopt;
    std::string head = body.substr(0, eol);
    if (std::sscanf(head.c_str(), "result=%d status=%d bytes=%lu", &f.result, &f.status, &bytes) != 3)
        return std::nullopt;
    f.bytes = bytes;
    f.rest = body.substr(eol + 1);
    return f;
}

class IntegrationOutbound : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(d.start(config())); }

    static ConfigBuilder config() { return bundled_config().plugin_dir(fixture_plugin_dir("fetcher")); }

    // GET /api/fetcher/<route>?url=<url><extra>
    Response call(std::string_view route, std::string_view url, std::string_view extra = {}) {
        Request req;
        req.url = d.url("/api/fetcher/" + std::string(route) + "?url=" + percent_encode(url) + std::string(extra));
        return perform(req);
    }

    Fetched fetch(std::string_view url, std::string_view extra = {}) {
        auto r = call("fetch", url, extra);
        EXPECT_EQ(r.status, 200) << r.error << r.body;
        auto f = parse_fetched(r.body);
        EXPECT_TRUE(f.has_value()) << "unexpected fetcher answer: " << r.body;
        return f.value_or(Fetched{});
    }

    UpstreamServer upstream;
    Daemon d;
};

TEST_F(IntegrationOutbound, FetchReachesTheUpstreamAsSent) {
    auto f = fetch(upstream.url("/things/one?q=a%20b&q=2"));
    EXPECT_EQ(f.result, kOk) << f.rest;
    EXPECT_EQ(f.status, 200);
    EXPECT_EQ(f.bytes, f.rest.size());
    auto doc = parse_json(f.rest);
    ASSERT_FALSE(doc.HasParseError()) << f.rest;
    EXPECT_EQ(json_string(doc, "target"), "/things/one?q=a%20b&q=2");

    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(upstream.requests(), 1u);
    EXPECT_EQ(seen->method, "GET");
    EXPECT_EQ(seen->target, "/things/one?q=a%20b&q=2");
    EXPECT_EQ(seen->header_values("X-From-Plugin"), std::vector<std::string>{"fetcher"});
    EXPECT_EQ(seen->header("Host"), upstream.authority());
    // plugin.h: the host adds nothing but Host (and Content-Length for a body).
    std::vector<std::string> names;
    for (const auto& [name, value] : seen->headers) names.push_back(name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"Host", "X-From-Plugin"}));
    // "X-From-Plugin" keeps the case the plugin gave it.
    bool exact_case = false;
    for (const auto& [name, value] : seen->headers) exact_case = exact_case || name == "X-From-Plugin";
    EXPECT_TRUE(exact_case);
}

TEST_F(IntegrationOutbound, UpstreamErrorStatusIsStillAResponse) {
    auto f = fetch(upstream.url("/status/503"));
    EXPECT_EQ(f.result, kOk) << f.rest;
    EXPECT_EQ(f.status, 503);
    EXPECT_EQ(json_string(parse_json(f.rest), "target"), "/status/503") << f.rest;
}

TEST_F(IntegrationOutbound, ChunkedResponseArrivesDechunked) {
    auto f = fetch(upstream.url("/chunked"));
    EXPECT_EQ(f.result, kOk) << f.rest;
    EXPECT_EQ(f.rest, UpstreamServer::kChunkedBody);
    EXPECT_EQ(f.bytes, UpstreamServer::kChunkedBody.size());
}

TEST_F(IntegrationOutbound, UnreachableUpstreamIsReportedAsUnreachable) {
    auto started = Clock::now();
    auto f = fetch("http://127.0.0.1:" + std::to_string(unused_port()) + "/nothing");
    EXPECT_EQ(f.result, kErrUnreachable) << f.rest;
    EXPECT_EQ(f.status, 0);
    EXPECT_FALSE(f.rest.empty()) << "no error text";
    EXPECT_EQ(f.rest.find("X-From-Plugin"), std::string::npos) << "error text carries request headers: " << f.rest;
    EXPECT_LT(elapsed_ms(started), 3000);
}

TEST_F(IntegrationOutbound, SlowUpstreamTimesOut) {
    auto started = Clock::now();
    auto f = fetch(upstream.url("/sleep/2000"), "&timeout_ms=300");
    auto elapsed = elapsed_ms(started);
    EXPECT_EQ(f.result, kErrTimeout) << f.rest;
    EXPECT_EQ(f.status, 0);
    EXPECT_GE(elapsed, 250);
    EXPECT_LT(elapsed, 1000);
}

TEST_F(IntegrationOutbound, ResponseOverTheCapIsTooLarge) {
    auto over = fetch(upstream.url("/big/100000"), "&max=1000");
    EXPECT_EQ(over.result, kErrTooLarge) << over.rest.substr(0, 200);
    EXPECT_EQ(over.status, 0);
    auto at = fetch(upstream.url("/big/1000"), "&max=1000");
    EXPECT_EQ(at.result, kOk) << at.rest.substr(0, 200);
    EXPECT_EQ(at.rest, std::string(1000, 'x'));
}

TEST_F(IntegrationOutbound, InvalidUrlIsRefusedBySend) {
    auto r = call("fetch", "ftp://127.0.0.1/file");
    EXPECT_EQ(r.status, 200) << r.error;
    auto f = parse_fetched(r.body);
    ASSERT_TRUE(f.has_value()) << r.body;
    EXPECT_EQ(f->result, kErrInvalid) << r.body;
    EXPECT_EQ(upstream.connections(), 0u);
}

TEST_F(IntegrationOutbound, CancelledRequestCompletesWithCancelled) {
    auto started = Clock::now();
    auto r = call("cancel", upstream.url("/sleep/2000"));
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "send=0 cancel=0 result=-11");
    EXPECT_LT(elapsed_ms(started), 1500);
}

// Pooling: 50 fetches, 10 at a time, must reuse the connections of the first
// wave instead of opening one per request.
TEST_F(IntegrationOutbound, ConcurrentFetchesReuseConnections) {
    constexpr int kWaves = 5;
    constexpr int kPerWave = 10;
    for (int wave = 0; wave < kWaves; ++wave) {
        std::vector<std::future<Response>> pending;
        for (int i = 0; i < kPerWave; ++i) {
            std::string url = upstream.url("/n/" + std::to_string(wave * kPerWave + i));
            pending.push_back(std::async(std::launch::async, [this, url] { return call("fetch", url); }));
        }
        for (auto& p : pending) {
            auto r = p.get();
            ASSERT_EQ(r.status, 200) << r.error << r.body;
            auto f = parse_fetched(r.body);
            ASSERT_TRUE(f.has_value()) << r.body;
            EXPECT_EQ(f->result, kOk) << f->rest;
        }
    }
    EXPECT_EQ(upstream.requests(), static_cast<std::size_t>(kWaves * kPerWave));
    EXPECT_LE(upstream.connections(), 20u);
}

// A burst of 50 that all overlap at the upstream: every one completes, and
// the client queues for its per-host connection limit (32) instead of
// opening a connection per request.
TEST_F(IntegrationOutbound, SimultaneousFetchesShareABoundedPool) {
    constexpr int kCount = 50;
    std::vector<std::future<Response>> pending;
    for (int i = 0; i < kCount; ++i) {
        std::string url = upstream.url("/sleep/100?i=" + std::to_string(i));
        pending.push_back(std::async(std::launch::async, [this, url] { return call("fetch", url); }));
    }
    for (auto& p : pending) {
        auto r = p.get();
        ASSERT_EQ(r.status, 200) << r.error << r.body;
        auto f = parse_fetched(r.body);
        ASSERT_TRUE(f.has_value()) << r.body;
        EXPECT_EQ(f->result, kOk) << f->rest;
    }
    EXPECT_EQ(upstream.requests(), static_cast<std::size_t>(kCount));
    // max_connections_per_host (32) bounds the requests in progress at the
    // upstream at once, across the worker threads (a connection carries one
    // at a time). A worker whose connection sits idle while another waits
    // for one closes it to give the place up, so over the run a few more
    // connections than 32 may be opened.
    EXPECT_EQ(upstream.peak_sleeping(), 32u);
    EXPECT_LE(upstream.connections(), static_cast<std::size_t>(kCount));
}

// The rest exercise the plain-http engine in particular: every upstream here
// is http:// to 127.0.0.1, which libcurl no longer sees.

TEST_F(IntegrationOutbound, CloseDelimitedResponseEndsWithTheConnection) {
    auto f = fetch(upstream.url("/close-delimited"));
    EXPECT_EQ(f.result, kOk) << f.rest;
    EXPECT_EQ(f.status, 200);
    EXPECT_EQ(f.rest, UpstreamServer::kCloseDelimitedBody);
    // The connection could not be reused: the next request opens another.
    EXPECT_EQ(fetch(upstream.url("/n/1")).result, kOk);
    EXPECT_EQ(upstream.connections(), 2u);
}

// Each server worker thread sends its handlers' requests itself and keeps
// its own idle connections (as nginx's worker processes do): sequential
// requests reuse at most one connection per worker.
TEST_F(IntegrationOutbound, SequentialFetchesShareOneConnectionPerWorker) {
    constexpr std::size_t kCount = 20;
    for (std::size_t i = 0; i < kCount; ++i) {
        auto f = fetch(upstream.url("/n/" + std::to_string(i)));
        ASSERT_EQ(f.result, kOk) << f.rest;
    }
    EXPECT_EQ(upstream.requests(), kCount);
    EXPECT_LE(upstream.connections(), 2u);  // the tests' two workers
}

TEST_F(IntegrationOutbound, UpstreamClosingAnIdleConnectionCostsNoRequest) {
    for (int i = 0; i < 5; ++i) {
        auto f = fetch(upstream.url("/then-close"));
        ASSERT_EQ(f.result, kOk) << "round " << i << ": " << f.rest;
    }
    EXPECT_EQ(upstream.requests(), 5u);
    EXPECT_EQ(upstream.connections(), 5u);
}

// The race every keep-alive client meets: the upstream closes an idle
// connection just as a request goes out on it. Nothing came back, so the
// request is sent once more on a fresh connection.
TEST_F(IntegrationOutbound, RequestLostOnAReusedConnectionIsRetriedOnAFreshOne) {
    auto first = fetch(upstream.url("/close-next"));
    ASSERT_EQ(first.result, kOk) << first.rest;
    auto second = fetch(upstream.url("/after/close-next"));
    EXPECT_EQ(second.result, kOk) << second.rest;
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(json_string(parse_json(second.rest), "target"), "/after/close-next") << second.rest;
    EXPECT_EQ(upstream.connections(), 2u);
    // The retried request was answered on the second connection, which the
    // upstream then also drops on its next request: one more retry, one more
    // connection, still no failure.
    auto third = fetch(upstream.url("/n/3"));
    EXPECT_EQ(third.result, kOk) << third.rest;
    EXPECT_EQ(upstream.connections(), 3u);
}

TEST_F(IntegrationOutbound, MalformedResponseIsUnreachableAndSaysWhy) {
    auto f = fetch(upstream.url("/bad-length"));
    EXPECT_EQ(f.result, kErrUnreachable) << f.rest;
    EXPECT_EQ(f.status, 0);
    EXPECT_NE(f.rest.find("Content-Length"), std::string::npos) << f.rest;
    EXPECT_NE(f.rest.find(upstream.authority()), std::string::npos) << f.rest;
    // The connection was dropped, not reused for what follows.
    EXPECT_EQ(fetch(upstream.url("/n/1")).result, kOk);
    EXPECT_EQ(upstream.connections(), 2u);
}

TEST_F(IntegrationOutbound, RefusedConnectionNamesTheAddressAndTheReason) {
    std::string authority = "127.0.0.1:" + std::to_string(unused_port());
    auto f = fetch("http://" + authority + "/nothing");
    EXPECT_EQ(f.result, kErrUnreachable) << f.rest;
    EXPECT_EQ(f.rest, "connect to " + authority + ": Connection refused");
}

// Host names are looked up off every serving thread and served by the same
// engine as addresses: pooled the same way, and an unknown one fails with
// the resolver's reason.
TEST_F(IntegrationOutbound, HostNamesAreResolvedAndPooled) {
    const std::string named = "http://localhost:" + std::to_string(upstream.port());
    for (int i = 0; i < 5; ++i) {
        auto f = fetch(named + "/n/" + std::to_string(i));
        ASSERT_EQ(f.result, kOk) << f.rest;
    }
    EXPECT_EQ(upstream.requests(), 5u);
    EXPECT_LE(upstream.connections(), 2u);  // one per worker at most
    auto unknown = fetch("http://no-such-host.invalid/x");
    EXPECT_EQ(unknown.result, kErrUnreachable) << unknown.rest;
    EXPECT_NE(unknown.rest.find("cannot resolve no-such-host.invalid"), std::string::npos) << unknown.rest;
}

// After stop() the host cancels what the plugin still has in flight, so a
// shutdown never waits for a slow upstream.
TEST_F(IntegrationOutbound, StopCancelsFetchesInFlight) {
    ASSERT_TRUE(d.start(config().server("shutdown_timeout", "300ms")));
    auto kept = std::async(std::launch::async, [this] { return call("fetch", upstream.url("/sleep/20000")); });
    ASSERT_TRUE(upstream.wait_for_requests(1, 5s));
    auto signalled = Clock::now();
    d.signal(SIGTERM);
    auto r = kept.get();
    EXPECT_TRUE(is_error_response(r, 503, "GET", "/api/fetcher/fetch"));
    EXPECT_EQ(d.wait_exit(10s), 0);
    EXPECT_LT(elapsed_ms(signalled), 3000);
}

}  // namespace
}  // namespace kerberus::test
