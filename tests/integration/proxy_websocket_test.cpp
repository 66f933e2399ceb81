// WebSocket through the proxy (issue 12 input #5): an endpoint with
// `ws: true` tunnels the upgrade both ways, as Backstage's proxy does; the
// handshake's headers pass, bytes flow either way as they come, either side
// ending ends the tunnel, and an idle tunnel closes after the endpoint's
// timeout.
#include <sys/socket.h>

#include <thread>

#include "daemon.h"
#include "http_client.h"
#include "proxy_config.h"
#include "upstream_server.h"

namespace kerberus::test {
namespace {

// RFC 6455 1.3's example key and the accept value it gives.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
// A masked client text frame "Hello" (RFC 6455 5.7).
const std::string kMaskedHello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);

std::string handshake(std::string_view path, std::string_view extra = "") {
    return "GET " + std::string(path) +
           " HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
           "Sec-WebSocket-Key: " + std::string(kKey) + "\r\nSec-WebSocket-Version: 13\r\n" + std::string(extra) +
           "\r\n";
}

class IntegrationProxyWebSocket : public ::testing::Test {
protected:
    ::testing::AssertionResult start(std::string_view options = "ws: true") {
        return d.start(proxy_config({endpoint("/ws", upstream.url(""), options)}));
    }
    // Sends the handshake and reads the head of the answer; the head.
    std::string open(RawConnection& c, std::string_view path, std::string_view extra = "") {
        if (!c.send(handshake(path, extra)) || !c.read_until("\r\n\r\n", 10s)) return {};
        return c.received().substr(0, c.received().find("\r\n\r\n") + 4);
    }
    // What arrived after the head, once `bytes` of it did.
    std::string after_head(RawConnection& c, std::size_t bytes) {
        const std::size_t start = c.received().find("\r\n\r\n") + 4;
        c.read_at_least(start + bytes, 30s);
        return c.received().substr(start);
    }

    UpstreamServer upstream;
    Daemon d;
};

TEST_F(IntegrationProxyWebSocket, AnUpgradeIsTunnelledBothWays) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    std::string head = open(c, "/api/proxy/ws/chat/ws-echo", "Sec-WebSocket-Protocol: chat, superchat\r\n");
    ASSERT_TRUE(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << head << d.log();
    EXPECT_NE(head.find("\r\nConnection: Upgrade\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nSec-WebSocket-Accept: " + std::string(kAccept) + "\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nSec-WebSocket-Protocol: chat\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("X-Not-For-The-Client"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;

    ASSERT_TRUE(c.send(kMaskedHello));
    EXPECT_EQ(after_head(c, kMaskedHello.size()), kMaskedHello);

    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->target, "/chat/ws-echo");
    EXPECT_EQ(seen->header("Upgrade").value_or(""), "websocket");
    EXPECT_EQ(seen->header("Connection").value_or(""), "Upgrade");
    EXPECT_EQ(seen->header("Sec-WebSocket-Key").value_or(""), kKey);
    EXPECT_EQ(seen->header("Sec-WebSocket-Version").value_or(""), "13");
    EXPECT_EQ(seen->header("Sec-WebSocket-Protocol").value_or(""), "chat, superchat");
}

TEST_F(IntegrationProxyWebSocket, AHostNameTargetTunnelsToo) {
    ASSERT_TRUE(d.start(proxy_config({endpoint("/ws", "http://localhost:" + std::to_string(upstream.port()), "ws: true")})));
    RawConnection c(d.port());
    ASSERT_TRUE(open(c, "/api/proxy/ws/ws-echo").starts_with("HTTP/1.1 101 ")) << d.log();
    ASSERT_TRUE(c.send(kMaskedHello));
    EXPECT_EQ(after_head(c, kMaskedHello.size()), kMaskedHello);
}

TEST_F(IntegrationProxyWebSocket, TheUpstreamMaySpeakFirst) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    std::string head = open(c, "/api/proxy/ws/ws-hello");
    ASSERT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
    EXPECT_EQ(after_head(c, UpstreamServer::kWebSocketHello.size()), UpstreamServer::kWebSocketHello);
}

// Without `ws`, Upgrade is hop-by-hop and stays behind: the upstream sees an
// ordinary GET (this one answers 426), and the connection carries on.
TEST_F(IntegrationProxyWebSocket, WithoutWsTheUpgradeStaysBehind) {
    ASSERT_TRUE(start("timeout: 5s"));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(handshake("/api/proxy/ws/ws-echo")));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 426);
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_FALSE(seen->has_header("Upgrade"));
    ASSERT_TRUE(c.send("GET /api/proxy/ws/big/4 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto next = c.read_response(10s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "xxxx");
}

TEST_F(IntegrationProxyWebSocket, OnlyGetIsUpgraded) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/proxy/ws/ws-echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: " + std::string(kKey) +
                       "\r\nContent-Length: 0\r\n\r\n"));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 426);  // the upstream saw no upgrade
}

// The client ending its side ends the tunnel: the upstream sees the end,
// closes, and the client's connection closes.
TEST_F(IntegrationProxyWebSocket, TheClientEndingClosesTheTunnel) {
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(open(c, "/api/proxy/ws/ws-echo").starts_with("HTTP/1.1 101 "));
    ASSERT_TRUE(c.send(kMaskedHello));
    EXPECT_EQ(after_head(c, kMaskedHello.size()), kMaskedHello);
    ASSERT_TRUE(c.shutdown_write());
    EXPECT_TRUE(c.closed_by_peer(10s));
    EXPECT_TRUE(wait_for_proxy_idle(d)) << d.log();
}

TEST_F(IntegrationProxyWebSocket, AnIdleTunnelClosesAfterTheTimeout) {
    ASSERT_TRUE(start("ws: true, timeout: 1s"));
    RawConnection c(d.port());
    ASSERT_TRUE(open(c, "/api/proxy/ws/ws-echo").starts_with("HTTP/1.1 101 "));
    // Traffic keeps it open past the timeout...
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(600ms);
        ASSERT_TRUE(c.send(kMaskedHello));
    }
    EXPECT_EQ(after_head(c, 3 * kMaskedHello.size()).size(), 3 * kMaskedHello.size());
    // ...silence closes it.
    EXPECT_TRUE(c.closed_by_peer(5s));
}

// Both directions at once, more than any buffer: each side's slowness
// pauses the other, and every byte arrives in order.
TEST_F(IntegrationProxyWebSocket, ATunnelCarriesMoreThanAnyBufferEachWay) {
    constexpr std::size_t kBytes = std::size_t{32} << 20;
    ASSERT_TRUE(start());
    RawConnection c(d.port());
    ASSERT_TRUE(open(c, "/api/proxy/ws/ws-echo").starts_with("HTTP/1.1 101 "));
    std::string pattern(1 << 16, '\0');
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>(i * 7 + 3);
    std::thread sender([&] {
        for (std::size_t sent = 0; sent < kBytes; sent += pattern.size()) c.send(pattern);
    });
    std::string echoed = after_head(c, kBytes);
    sender.join();
    ASSERT_EQ(echoed.size(), kBytes);
    for (std::size_t at = 0; at < kBytes; at += pattern.size()) {
        ASSERT_EQ(echoed.compare(at, pattern.size(), pattern), 0) << "at " << at;
    }
}

// Many tunnels at once, while ordinary requests are served.
TEST_F(IntegrationProxyWebSocket, ManyTunnelsStayOpenWhileOtherRequestsAreServed) {
    // More than outbound.max_connections_per_host (32): tunnels are not
    // pooled connections and do not queue for one.
    constexpr int kTunnels = 200;
    ASSERT_TRUE(start());
    std::vector<std::unique_ptr<RawConnection>> tunnels;
    for (int i = 0; i < kTunnels; ++i) {
        tunnels.push_back(std::make_unique<RawConnection>(d.port()));
        ASSERT_TRUE(open(*tunnels.back(), "/api/proxy/ws/ws-echo").starts_with("HTTP/1.1 101 ")) << i << d.log();
    }
    for (int i = 0; i < 20; ++i) EXPECT_EQ(get(d.url("/api/hello/world")).status, 200);
    for (std::size_t i = 0; i < tunnels.size(); ++i) {
        ASSERT_TRUE(tunnels[i]->send(kMaskedHello));
        ASSERT_EQ(after_head(*tunnels[i], kMaskedHello.size()), kMaskedHello) << "tunnel " << i << d.log();
    }
}

}  // namespace
}  // namespace kerberus::test
