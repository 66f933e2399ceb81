// The proxy relays answers as they arrive: larger than any buffer, with a
// slow client pausing the upstream, chunked when the upstream stated no
// length, and cut off (never completed short) when the upstream breaks off.
#include <sys/socket.h>

#include <thread>

#include "daemon.h"
#include "http_client.h"
#include "proxy_config.h"
#include "upstream_server.h"

namespace kerberus::test {
namespace {

constexpr bool kSanitized = KERBERUS_TEST_SANITIZED;

class IntegrationProxyStreaming : public ::testing::Test {
protected:
    ::testing::AssertionResult start(std::string options = "") {
        return d.start(proxy_config({options.empty() ? simple_endpoint("/up", upstream.url(""))
                                                     : endpoint("/up", upstream.url(""), options)}));
    }
    UpstreamServer upstream;
    Daemon d;
};

// 512 MiB through the daemon, read as it comes: the daemon's memory stays
// what a small answer costs.
TEST_F(IntegrationProxyStreaming, ADownloadLargerThanAnyBufferStreamsThrough) {
    constexpr std::size_t kBytes = std::size_t{512} << 20;
    ASSERT_TRUE(start());
    const long before = d.status_kib("VmRSS");
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/proxy/up/big/" + std::to_string(kBytes) +
                       " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(c.read_until("\r\n\r\n", 10s));
    const std::string head = c.received().substr(0, c.received().find("\r\n\r\n") + 4);
    EXPECT_NE(head.find("Content-Length: " + std::to_string(kBytes)), std::string::npos) << head;
    EXPECT_EQ(c.drain_to_close(60s) - head.size(), kBytes);
    const long peak = d.status_kib("VmHWM");
    if (!kSanitized) {
        EXPECT_LT(peak - before, 48 * 1024) << "peak RSS " << peak << " KiB, " << before << " before";
    }
}

TEST_F(IntegrationProxyStreaming, ASlowClientPausesTheUpstream) {
    constexpr std::size_t kBytes = std::size_t{128} << 20;
    ASSERT_TRUE(start());
    const long before = d.status_kib("VmRSS");
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/proxy/up/big/" + std::to_string(kBytes) +
                       " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    std::this_thread::sleep_for(1s);  // not reading
    const long stalled = d.status_kib("VmRSS");
    if (!kSanitized) {
        EXPECT_LT(stalled - before, 16 * 1024) << "RSS " << before << " -> " << stalled << " KiB";
    }
    std::size_t total = c.drain_to_close(60s);
    EXPECT_GT(total, kBytes);  // the head and the whole body
}

TEST_F(IntegrationProxyStreaming, AnUnstatedLengthIsRelayedChunked) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/proxy/up/big-chunked/1000000 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->header("Transfer-Encoding").value_or(""), "chunked");
    EXPECT_FALSE(r->header("Content-Length").has_value());
    EXPECT_EQ(r->body, std::string(1000000, 'y'));
    // The connection carries the next request.
    ASSERT_TRUE(c.send("GET /api/proxy/up/big/10 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto next = c.read_response(10s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, std::string(10, 'x'));
}

TEST_F(IntegrationProxyStreaming, AnUpstreamBreakingOffCutsTheClientsAnswerOff) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/proxy/up/broken/1000 HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string wire = c.read_to_close(10s);
    EXPECT_NE(wire.find("Content-Length: 2000\r\n"), std::string::npos) << wire.substr(0, 300);
    EXPECT_TRUE(wire.ends_with("\r\n\r\n" + std::string(1000, 'z'))) << wire.size();
    EXPECT_TRUE(d.wait_for_log({"proxy endpoint /up", "broke off"})) << d.log();
}

// maxResponseSize still bounds what is relayed: a stated length over it is
// refused before anything is sent, an unstated one is cut off there.
TEST_F(IntegrationProxyStreaming, MaxResponseSizeCutsOffAnUnstatedLength) {
    ASSERT_TRUE(start("maxResponseSize: 100000"));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/proxy/up/big-chunked/1000000 HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string wire = c.read_to_close(10s);
    EXPECT_NE(wire.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << wire.substr(0, 300);
    EXPECT_FALSE(wire.ends_with("\r\n0\r\n\r\n"));
    EXPECT_LT(wire.size(), 200000u);
    auto refused = get(d.url("/api/proxy/up/big/1000000"));
    EXPECT_TRUE(is_error_response(refused, 502, "GET", "/api/proxy/up/big/1000000"));
}

// The client leaving stops the upstream transfer too.
TEST_F(IntegrationProxyStreaming, AClientLeavingCancelsTheUpstreamTransfer) {
    ASSERT_TRUE(start());
    {
        RawConnection c(d.port());
        ASSERT_TRUE(c.send("GET /api/proxy/up/big/1073741824 HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_TRUE(c.read_until("xxxxxxxx", 10s));
    }
    // The proxy's own fetch metrics show it ended (cancelled, not counted
    // as an upstream error) well before a GiB could have gone through.
    EXPECT_TRUE(wait_for_proxy_idle(d)) << get(d.admin_url("/metrics")).body << d.log();
}

// 64 MiB through an endpoint whose target names `host`: the client does
// not read for a second, and the daemon's memory does not grow meanwhile.
void streams_and_pauses(Daemon& d, const UpstreamServer& upstream, const std::string& host) {
    constexpr std::size_t kBytes = std::size_t{64} << 20;
    ASSERT_TRUE(d.start(proxy_config({simple_endpoint("/t", "http://" + host + ":" + std::to_string(upstream.port()))})));
    const long before = d.status_kib("VmRSS");
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/proxy/t/big-chunked/" + std::to_string(kBytes) +
                       " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    std::this_thread::sleep_for(1s);  // not reading
    const long stalled = d.status_kib("VmRSS");
    if (!kSanitized) {
        EXPECT_LT(stalled - before, 16 * 1024) << "RSS " << before << " -> " << stalled << " KiB";
    }
    ASSERT_TRUE(c.read_until("\r\n\r\n", 10s));
    std::string head = c.received().substr(0, c.received().find("\r\n\r\n") + 4);
    EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
    // Chunk framing adds a few bytes per 64 KiB chunk.
    std::size_t total = c.drain_to_close(60s) - head.size();
    EXPECT_GT(total, kBytes);
    EXPECT_LT(total, kBytes + kBytes / 1000);
}

// A host name is resolved off the engine's thread and served by the same
// plain-http engine: the same streaming, pausing and resuming.
TEST_F(IntegrationProxyStreaming, AHostNameTargetStreamsAndPausesToo) { streams_and_pauses(d, upstream, "localhost"); }

// A target only libcurl reads ("127.1" is 127.0.0.1 to inet_aton, not to
// the plain engine): its streaming pauses and resumes too.
TEST_F(IntegrationProxyStreaming, ATargetLibcurlServesStreamsAndPausesToo) { streams_and_pauses(d, upstream, "127.1"); }

}  // namespace
}  // namespace kerberus::test
