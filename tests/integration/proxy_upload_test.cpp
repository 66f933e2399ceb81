// The proxy sends request bodies upstream as they arrive (ABI 1.5 streamed
// request bodies, both ways): chunked or with a length, larger than
// server.max_request_body and than memory, paused while the upstream reads
// slowly, and abandoned when the client breaks off.
#include <sys/socket.h>

#include <thread>

#include "daemon.h"
#include "http_client.h"
#include "proxy_config.h"
#include "upstream_server.h"

namespace kerberus::test {
namespace {

constexpr bool kSanitized = KERBERUS_TEST_SANITIZED;

// What /count answers for `bytes` bytes of `fill`.
std::string counted(uint64_t bytes, char fill) {
    uint32_t sum = static_cast<uint32_t>(bytes * static_cast<unsigned char>(fill));
    return "{\"bytes\":" + std::to_string(bytes) + ",\"sum\":" + std::to_string(sum) + "}";
}

// Sends `bytes` of `fill` as chunks of `chunk` bytes, then the last chunk.
bool send_chunked(RawConnection& c, std::size_t bytes, std::size_t chunk, char fill) {
    char size[20];
    const std::string piece(chunk, fill);
    for (std::size_t sent = 0; sent < bytes; sent += chunk) {
        std::size_t n = std::min(chunk, bytes - sent);
        std::snprintf(size, sizeof size, "%zx\r\n", n);
        if (!c.send(size) || !c.send(std::string_view(piece).substr(0, n)) || !c.send("\r\n")) return false;
    }
    return c.send("0\r\n\r\n");
}

// Sends `bytes` of `fill` in 1 MiB writes.
bool send_plain(RawConnection& c, std::size_t bytes, char fill) {
    const std::string piece(std::size_t{1} << 20, fill);
    for (std::size_t sent = 0; sent < bytes; sent += piece.size()) {
        if (!c.send(std::string_view(piece).substr(0, std::min(piece.size(), bytes - sent)))) return false;
    }
    return true;
}

class IntegrationProxyUpload : public ::testing::Test {
protected:
    ::testing::AssertionResult start(std::string settings = "") {
        ConfigBuilder config = proxy_config({simple_endpoint("/up", upstream.url(""))});
        if (!settings.empty()) config.server(settings.substr(0, settings.find(':')), settings.substr(settings.find(':') + 2));
        return d.start(config);
    }
    UpstreamServer upstream;
    Daemon d;
};

// Issue input #9: a chunked 1 MiB upload used to get 413 (the in-memory
// request limit); Backstage forwards it, and so does kerberus now.
TEST_F(IntegrationProxyUpload, AChunkedMebibyteUploadReachesTheUpstream) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/up/store HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n"));
    ASSERT_TRUE(send_chunked(c, std::size_t{1} << 20, 16 * 1024, 'u'));
    auto r = c.read_response(20s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 200) << r->body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->method, "POST");
    EXPECT_TRUE(seen->chunked);  // a length nobody stated is not invented
    EXPECT_EQ(seen->body, std::string(std::size_t{1} << 20, 'u'));
    EXPECT_EQ(seen->header("Content-Type").value_or(""), "application/octet-stream");
    // The connection carries the next request.
    ASSERT_TRUE(c.send("GET /api/proxy/up/big/5 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto next = c.read_response(10s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "xxxxx");
}

// A stated length goes upstream as it was stated, whatever
// server.max_request_body says (it bounds bodies held in memory only).
TEST_F(IntegrationProxyUpload, AStatedLengthIsForwardedPastTheInMemoryLimit) {
    ASSERT_TRUE(start("max_request_body: 65536"));
    constexpr std::size_t kBytes = 3 << 20;
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("PUT /api/proxy/up/store HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(kBytes) +
                       "\r\n\r\n"));
    ASSERT_TRUE(send_plain(c, kBytes, 'p'));
    auto r = c.read_response(20s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 200) << r->body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->method, "PUT");
    EXPECT_FALSE(seen->chunked);
    EXPECT_EQ(seen->header("Content-Length").value_or(""), std::to_string(kBytes));
    EXPECT_EQ(seen->body.size(), kBytes);
    // Routes that take their body whole still have the limit.
    auto echo = post(d.url("/api/echo/"), std::string(100000, 'e'));
    EXPECT_EQ(echo.status, 413) << echo.body;
}

// Small bodies arrive with their head; they take the same path.
TEST_F(IntegrationProxyUpload, ASmallBodyArrivingWithItsHeadIsForwarded) {
    ASSERT_TRUE(start());
    auto r = post(d.url("/api/proxy/up/small"), R"({"a":1})", "application/json");
    EXPECT_EQ(r.status, 200) << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->body, R"({"a":1})");
    EXPECT_EQ(seen->header("Content-Length").value_or(""), "7");
}

// Larger than the daemon could hold: its memory stays what a small
// request costs, with the client sending as fast as it can.
TEST_F(IntegrationProxyUpload, AnUploadLargerThanMemoryStreamsThrough) {
    const std::size_t kBytes = kSanitized ? std::size_t{64} << 20 : std::size_t{512} << 20;
    ASSERT_TRUE(start());
    const long before = d.status_kib("VmRSS");
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/up/count HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(kBytes) +
                       "\r\n\r\n"));
    ASSERT_TRUE(send_plain(c, kBytes, 'b'));
    auto r = c.read_response(60s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->body, counted(kBytes, 'b'));
    const long peak = d.status_kib("VmHWM");
    if (!kSanitized) {
        EXPECT_LT(peak - before, 48 * 1024) << "peak RSS " << peak << " KiB, " << before << " before";
    }
}

// An upstream that reads slowly pauses the client: what waits in the
// daemon stays bounded, and every byte arrives.
TEST_F(IntegrationProxyUpload, ASlowUpstreamPausesTheClient) {
    constexpr std::size_t kBytes = std::size_t{24} << 20;
    ASSERT_TRUE(start());
    const long before = d.status_kib("VmRSS");
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/up/slow-count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::thread sender([&] { send_chunked(c, kBytes, 256 * 1024, 's'); });
    std::this_thread::sleep_for(500ms);
    const long during = d.status_kib("VmRSS");
    sender.join();
    auto r = c.read_response(60s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->body, counted(kBytes, 's'));
    if (!kSanitized) {
        EXPECT_LT(during - before, 16 * 1024) << "RSS " << before << " -> " << during << " KiB";
    }
}

// 16 MiB each way through an endpoint whose target names `host`: chunked
// to a slow reader (the client is paused), then with a Content-Length.
void takes_uploads(Daemon& d, UpstreamServer& upstream, const std::string& host) {
    constexpr std::size_t kBytes = std::size_t{16} << 20;
    ASSERT_TRUE(d.start(proxy_config({simple_endpoint("/t", "http://" + host + ":" + std::to_string(upstream.port()))})));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/t/slow-count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
    ASSERT_TRUE(send_chunked(c, kBytes, 64 * 1024, 'n'));
    auto chunked = c.read_response(60s);
    ASSERT_TRUE(chunked.has_value()) << d.log();
    EXPECT_EQ(chunked->body, counted(kBytes, 'n'));
    ASSERT_TRUE(c.send("PUT /api/proxy/t/count HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                       std::to_string(kBytes) + "\r\n\r\n"));
    ASSERT_TRUE(send_plain(c, kBytes, 'l'));
    auto stated = c.read_response(60s);
    ASSERT_TRUE(stated.has_value()) << d.log();
    EXPECT_EQ(stated->body, counted(kBytes, 'l'));
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->header("Content-Length").value_or(""), std::to_string(kBytes));
    EXPECT_FALSE(seen->has_header("Expect"));
}

// A host name (resolved off the engine's thread) takes uploads the same way.
TEST_F(IntegrationProxyUpload, AHostNameTargetTakesUploadsToo) { takes_uploads(d, upstream, "localhost"); }

// So does a target only libcurl reads ("127.1"): its read callback pauses
// and resumes with the upload.
TEST_F(IntegrationProxyUpload, ATargetLibcurlServesTakesUploadsToo) { takes_uploads(d, upstream, "127.1"); }

// The client waits for "100 Continue" before it sends the body.
TEST_F(IntegrationProxyUpload, ExpectContinueIsAnsweredWhenTheBodyIsWanted) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/up/store HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    ASSERT_TRUE(c.read_until("HTTP/1.1 100 Continue\r\n\r\n", 5s)) << c.received();
    ASSERT_TRUE(c.send("hello"));
    ASSERT_TRUE(c.read_until("\r\n\r\n{", 10s)) << c.received();
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->body, "hello");
}

// A client that leaves halfway: the upstream request is abandoned (never
// completed), and the daemon serves on.
TEST_F(IntegrationProxyUpload, AClientLeavingMidBodyAbandonsTheUpstreamRequest) {
    ASSERT_TRUE(start());
    {
        RawConnection c(d.port());
        ASSERT_TRUE(c.send("POST /api/proxy/up/count HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n"));
        ASSERT_TRUE(send_plain(c, 100000, 'h'));
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(wait_for_proxy_idle(d)) << get(d.admin_url("/metrics")).body << d.log();
    EXPECT_EQ(upstream.requests(), 0u);  // no complete request reached it
    auto r = get(d.url("/api/proxy/up/big/3"));
    EXPECT_EQ(r.body, "xxx");
}

// A malformed chunked body is the client's fault: 400, and the upstream
// request is abandoned.
TEST_F(IntegrationProxyUpload, AMalformedChunkedBodyGets400) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/up/count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\nzz\r\n"));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(r->body.find("request body"), std::string::npos) << r->body;
    EXPECT_EQ(r->header("Connection").value_or(""), "close");
}

}  // namespace
}  // namespace kerberus::test
