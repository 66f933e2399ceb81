// server.tls: HTTPS on the main listener, with every way kerberus answers
// (kept-alive, pipelined, asynchronous, streamed both ways, large) going
// through TLS; refusals of what TLS must refuse; client certificates; and
// certificates renewed by a reload while older connections carry on.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "http_client.h"
#include "proxy_config.h"
#include "tls_support.h"
#include "upstream_server.h"

using namespace kerberus::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

class IntegrationTls : public ::testing::Test {
protected:
    void SetUp() override {
        pki = d.dir() / "pki";
        fs::create_directories(pki);
        ca = make_ca(pki, "test-ca");
        server = make_leaf(pki, ca, "server", "kerberus-one", 1);
    }

    // The bundled plugins (and `more`) over TLS with the server
    // certificate; `extra` goes into server.tls as more flow-map entries.
    ConfigBuilder config(const std::string& extra = "") const {
        std::string tls = "{ certificate: " + server.cert.string() + ", key: " + server.key.string() +
                          (extra.empty() ? "" : ", " + extra) + " }";
        return bundled_config().server("tls", tls);
    }
    std::string url(std::string_view path) const {
        return "https://127.0.0.1:" + std::to_string(d.port()) + std::string(path);
    }
    Request request(std::string_view path) const {
        Request r;
        r.url = url(path);
        r.ca_file = ca.cert.string();
        return r;
    }
    TlsOptions verified() const {
        TlsOptions o;
        o.ca_file = ca.cert.string();
        return o;
    }
    double metric(const std::string& name) const {
        std::string text = get(d.admin_url("/metrics")).body;
        auto at = text.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
    }
    // The counter is bumped after the close the client sees: poll a little.
    bool metric_reaches(const std::string& name, double value) const {
        for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
            if (metric(name) >= value) return true;
        }
        return false;
    }

    Daemon d;
    fs::path pki;
    CertFiles ca, server;
};

const std::string kHello = "GET /api/hello/world HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

TEST_F(IntegrationTls, ServesVerifiedHttpsAndKeepsAdminPlain) {
    ASSERT_TRUE(d.start(config()));
    EXPECT_TRUE(d.wait_for_log({"TLS on the listener: CN=kerberus-one, serial 01"})) << d.log();
    EXPECT_EQ(d.log_lines_with({"serving on https://127.0.0.1:"}).size(), 1u) << d.log();
    Response r = perform(request("/api/hello/world"));
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "Hello, world!\n");
    // Verified against another CA: curl refuses the server.
    Request unverified = request("/api/hello/world");
    unverified.ca_file = make_ca(pki, "other-ca").cert.string();
    EXPECT_EQ(perform(unverified).status, 0);
    EXPECT_EQ(get(d.admin_url("/metrics")).status, 200);
}

TEST_F(IntegrationTls, KeepAliveReusesOneConnection) {
    ASSERT_TRUE(d.start(config()));
    Session s;
    long connects = 0;
    for (int i = 0; i < 5; ++i) {
        Response r = s.perform(request("/api/hello/world"));
        ASSERT_EQ(r.status, 200) << r.error;
        connects += r.num_connects;
    }
    EXPECT_EQ(connects, 1);
}

TEST_F(IntegrationTls, PipelinedRequestsAnsweredInOrder) {
    ASSERT_TRUE(d.start(config()));
    TlsClient c(d.port(), verified());
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send(kHello + "GET /api/echo/second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(c.read_to_close(5s));
    const std::string& got = c.received();
    auto first = got.find("Hello, world!\n");
    auto second = got.find("\"path\":\"/second\"");
    ASSERT_NE(first, std::string::npos) << got;
    ASSERT_NE(second, std::string::npos) << got;
    EXPECT_LT(first, second);
    // The close came with TLS's close_notify, not only the end of TCP.
    EXPECT_TRUE(c.error().empty()) << c.error();
}

TEST_F(IntegrationTls, AsynchronousAndStreamedAnswers) {
    ASSERT_TRUE(d.start(config()));
    Session s;
    Response delayed = s.perform(request("/api/echo/delay?ms=50"));
    ASSERT_EQ(delayed.status, 200) << delayed.error;
    EXPECT_NE(delayed.body.find("\"delayed_ms\":50"), std::string::npos) << delayed.body;
    Response events = s.perform(request("/api/echo/events?interval=10&count=3"));
    ASSERT_EQ(events.status, 200) << events.error;
    EXPECT_EQ(events.body,
              "id: 0\nevent: tick\ndata: {\"tick\":0}\n\n"
              "id: 1\nevent: tick\ndata: {\"tick\":1}\n\n"
              "id: 2\nevent: tick\ndata: {\"tick\":2}\n\n");
    EXPECT_EQ(delayed.num_connects + events.num_connects, 1);
}

TEST_F(IntegrationTls, LargeBodiesBothWays) {
    ASSERT_TRUE(d.start(config().server("max_request_body", "8MiB").plugin_dir(fixture_plugin_dir("streamer"))));
    std::string body(3 * 1024 * 1024, 'x');
    for (std::size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
    Request up = request("/api/echo/upload");
    up.method = "POST";
    up.body = body;
    up.timeout = 30s;
    Response echoed = perform(up);
    ASSERT_EQ(echoed.status, 200) << echoed.error;
    auto doc = parse_json(echoed.body);
    ASSERT_FALSE(doc.HasParseError());
    EXPECT_EQ(json_string(doc, "body").value_or("").size(), body.size());
    EXPECT_TRUE(json_string(doc, "body").value_or("") == body);

    // A body the plugin streams in as it arrives.
    Request streamed = request("/api/streamer/upload");
    streamed.method = "POST";
    streamed.body = body;
    streamed.timeout = 30s;
    Response counted = perform(streamed);
    ASSERT_EQ(counted.status, 200) << counted.error;
    EXPECT_NE(counted.body.find("received 3145728 bytes"), std::string::npos) << counted.body;

    // 20 MiB written as fast as the host takes them (BUSY, WRITABLE).
    Request flood = request("/api/streamer/flood/20");
    flood.timeout = 60s;
    Response down = perform(flood);
    ASSERT_EQ(down.status, 200) << down.error;
    EXPECT_EQ(down.body.size(), 20u * 1024 * 1024);
}

TEST_F(IntegrationTls, OnlyTls12And13) {
    ASSERT_TRUE(d.start(config().log_level("debug")));
    TlsOptions old = verified();
    old.min_version = TLS1_1_VERSION;
    old.max_version = TLS1_1_VERSION;
    TlsClient refused(d.port(), old);
    EXPECT_FALSE(refused.connected());
    EXPECT_TRUE(d.wait_for_log({"TLS handshake with 127.0.0.1 failed", "unsupported protocol"})) << d.log();

    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
        TlsOptions o = verified();
        o.min_version = o.max_version = version;
        TlsClient c(d.port(), o);
        ASSERT_TRUE(c.connected()) << c.error();
        EXPECT_EQ(c.version(), version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3");
        ASSERT_TRUE(c.send(kHello));
        EXPECT_TRUE(c.read_until("Hello, world!\n", 5s)) << c.error() << c.received();
    }
}

TEST_F(IntegrationTls, PlainHttpAndGarbageAreClosed) {
    ASSERT_TRUE(d.start(config().log_level("debug")));
    {
        RawConnection plain(d.port());
        ASSERT_TRUE(plain.send(raw_get("/api/hello/world")));
        EXPECT_TRUE(plain.closed_by_peer(3s));
        EXPECT_EQ(plain.received().find("Hello"), std::string::npos);
    }
    {
        RawConnection garbage(d.port());
        std::string bytes(600, '\0');
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7919 + 13) % 251);
        bytes[0] = 0x16;  // looks like a handshake record, then is not one
        ASSERT_TRUE(garbage.send(bytes));
        EXPECT_TRUE(garbage.closed_by_peer(3s));
    }
    EXPECT_TRUE(d.wait_for_log({"TLS handshake with 127.0.0.1 failed", "http request"})) << d.log();
    EXPECT_TRUE(metric_reaches("kerberus_tls_handshake_failures_total", 2));
    // Logged at debug only: a client sending garbage cannot fill the log.
    EXPECT_TRUE(d.log_lines_with({"TLS handshake", "[info]"}).empty()) << d.log();
    Response r = perform(request("/api/hello/world"));
    EXPECT_EQ(r.status, 200) << r.error;
}

TEST_F(IntegrationTls, SilentClientClosedAtHeaderTimeout) {
    ASSERT_TRUE(d.start(config().server("header_timeout", "500ms")));
    RawConnection silent(d.port());
    auto start = Clock::now();
    EXPECT_TRUE(silent.closed_by_peer(5s));
    EXPECT_GE(elapsed_ms(start), 400);
    EXPECT_EQ(silent.received(), "");  // no 408: there is no TLS to say it in
}

TEST_F(IntegrationTls, RequiredClientCertificate) {
    CertFiles client_ca = make_ca(pki, "client-ca");
    CertFiles client = make_leaf(pki, client_ca, "client", "alice", 7, false);
    CertFiles stranger_ca = make_ca(pki, "stranger-ca");
    CertFiles stranger = make_leaf(pki, stranger_ca, "stranger", "mallory", 8, false);
    ASSERT_TRUE(d.start(config("client_ca: " + client_ca.cert.string() + ", client_certificate: required")));

    Response none = perform(request("/api/hello/world"));
    EXPECT_EQ(none.status, 0) << none.body;

    Request wrong = request("/api/hello/world");
    wrong.client_cert = stranger.cert.string();
    wrong.client_key = stranger.key.string();
    EXPECT_EQ(perform(wrong).status, 0);

    Request signed_request = request("/api/hello/world");
    signed_request.client_cert = client.cert.string();
    signed_request.client_key = client.key.string();
    Response ok = perform(signed_request);
    EXPECT_EQ(ok.status, 200) << ok.error;
    EXPECT_TRUE(metric_reaches("kerberus_tls_handshake_failures_total", 2));
}

TEST_F(IntegrationTls, OptionalClientCertificate) {
    CertFiles client_ca = make_ca(pki, "client-ca");
    CertFiles client = make_leaf(pki, client_ca, "client", "alice", 7, false);
    CertFiles stranger_ca = make_ca(pki, "stranger-ca");
    CertFiles stranger = make_leaf(pki, stranger_ca, "stranger", "mallory", 8, false);
    ASSERT_TRUE(d.start(config("client_ca: " + client_ca.cert.string() + ", client_certificate: optional")));
    Response none = perform(request("/api/hello/world"));
    EXPECT_EQ(none.status, 200) << none.error;
    Request signed_request = request("/api/hello/world");
    signed_request.client_cert = client.cert.string();
    signed_request.client_key = client.key.string();
    EXPECT_EQ(perform(signed_request).status, 200);
    // Optional, but one that is sent must verify.
    Request wrong = request("/api/hello/world");
    wrong.client_cert = stranger.cert.string();
    wrong.client_key = stranger.key.string();
    EXPECT_EQ(perform(wrong).status, 0);
}

TEST_F(IntegrationTls, ClientCertificateRequiredWithoutCaIsAConfigError) {
    d.write_config(config("client_certificate: required"));
    RunResult r = d.run_to_exit({"--config", (d.dir() / "kerberus.yaml").string()});
    EXPECT_EQ(r.status, 78) << r.err;
    EXPECT_NE(r.err.find("server.tls: client_certificate: optional or required needs client_ca"), std::string::npos)
        << r.err;
}

TEST_F(IntegrationTls, ReloadRenewsTheCertificateForNewConnections) {
    ASSERT_TRUE(d.start(config()));
    TlsClient before(d.port(), verified());
    ASSERT_TRUE(before.connected()) << before.error();
    EXPECT_EQ(before.peer_cn(), "kerberus-one");

    // Renewal writes new files over the old ones, as certbot and cert-manager do.
    CertFiles renewed = make_leaf(pki, ca, "renewed", "kerberus-two", 2);
    fs::copy_file(renewed.cert, server.cert, fs::copy_options::overwrite_existing);
    fs::copy_file(renewed.key, server.key, fs::copy_options::overwrite_existing);
    ASSERT_TRUE(reload(d));
    EXPECT_TRUE(d.wait_for_log({"TLS: new connections use CN=kerberus-two, serial 02"})) << d.log();

    TlsClient after(d.port(), verified());
    ASSERT_TRUE(after.connected()) << after.error();
    EXPECT_EQ(after.peer_cn(), "kerberus-two");
    EXPECT_EQ(after.peer_serial(), "02");
    ASSERT_TRUE(after.send(kHello));
    EXPECT_TRUE(after.read_until("Hello, world!\n", 5s)) << after.error();

    // The connection made before the reload goes on, on its own certificate.
    ASSERT_TRUE(before.send(kHello + kHello));
    EXPECT_TRUE(before.read_until("Hello, world!\n", 5s, 2)) << before.error() << before.received();
    EXPECT_EQ(before.peer_serial(), "01");
}

TEST_F(IntegrationTls, BrokenFileAtReloadKeepsTheRunningCertificate) {
    ASSERT_TRUE(d.start(config()));
    CertFiles other = make_leaf(pki, ca, "other", "kerberus-other", 3);
    // A key that does not match the certificate, then a certificate that is not PEM.
    fs::copy_file(other.key, server.key, fs::copy_options::overwrite_existing);
    ASSERT_TRUE(reload(d));
    EXPECT_TRUE(d.wait_for_log({"reload failed, keeping the running configuration", "server.tls.key",
                                server.key.string() + " is not the private key of the certificate in " +
                                    server.cert.string()}))
        << d.log();
    d.write_file("pki/server.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    ASSERT_TRUE(reload(d));
    EXPECT_TRUE(d.wait_for_log({"reload failed", "server.tls.certificate", "cannot use " + server.cert.string()}))
        << d.log();

    TlsClient c(d.port(), verified());
    ASSERT_TRUE(c.connected()) << c.error();
    EXPECT_EQ(c.peer_cn(), "kerberus-one");
    ASSERT_TRUE(c.send(kHello));
    EXPECT_TRUE(c.read_until("Hello, world!\n", 5s)) << c.error();
}

TEST_F(IntegrationTls, BrokenKeyAtStartupIsAConfigError) {
    d.write_file("pki/server.key", "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
    d.write_config(config());
    RunResult r = d.run_to_exit({"--config", (d.dir() / "kerberus.yaml").string()});
    EXPECT_EQ(r.status, 78) << r.err;
    EXPECT_NE(r.err.find("server.tls.key: cannot use " + server.key.string() + " as a PEM private key"),
              std::string::npos)
        << r.err;
    // --check reads the files the same way.
    RunResult check = d.run_to_exit({"--check", "--config", (d.dir() / "kerberus.yaml").string()});
    EXPECT_EQ(check.status, 78) << check.err;

    fs::remove(server.key);
    RunResult missing = d.run_to_exit({"--config", (d.dir() / "kerberus.yaml").string()});
    EXPECT_EQ(missing.status, 78) << missing.err;
    EXPECT_NE(missing.err.find("cannot read " + server.key.string() + ": No such file or directory"), std::string::npos)
        << missing.err;
}

// The client speaks TLS to kerberusd; the upstream side stays plain HTTP.
TEST_F(IntegrationTls, WebSocketUpgradeThroughTheProxy) {
    UpstreamServer upstream;
    ConfigBuilder c = proxy_config({endpoint("/ws", upstream.url(""), "ws: true")});
    c.server("tls", "{ certificate: " + server.cert.string() + ", key: " + server.key.string() + " }");
    ASSERT_TRUE(d.start(c));
    TlsClient ws(d.port(), verified());
    ASSERT_TRUE(ws.connected()) << ws.error();
    ASSERT_TRUE(ws.send("GET /api/proxy/ws/chat/ws-echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"));
    ASSERT_TRUE(ws.read_until("\r\n\r\n", 10s)) << ws.error() << d.log();
    ASSERT_TRUE(ws.received().starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << ws.received();
    EXPECT_NE(ws.received().find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
    ws.clear();
    // A masked text frame "Hello" (RFC 6455 5.7), echoed back by the upstream.
    const std::string hello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    ASSERT_TRUE(ws.send(hello));
    EXPECT_TRUE(ws.read_until(hello, 10s)) << ws.error();
    EXPECT_EQ(ws.received(), hello);
}

// Under systemd the watchdog pings only while the daemon answers its own
// liveness probe: over TLS, the probe must speak TLS.
TEST_F(IntegrationTls, WatchdogProbeSpeaksTls) {
    const fs::path path = d.dir() / "notify.sock";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    d.set_env("NOTIFY_SOCKET", path.string());
    d.set_env("WATCHDOG_USEC", "300000");
    ASSERT_TRUE(d.start(config().log_level("debug")));
    int pings = 0;
    for (auto until = Clock::now() + 1500ms; Clock::now() < until;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0 && std::string(buf, static_cast<std::size_t>(n)).find("WATCHDOG=1") != std::string::npos) ++pings;
    }
    ::close(fd);
    EXPECT_GE(pings, 2) << d.log();
    EXPECT_TRUE(d.log_lines_with({"liveness probe got no answer"}).empty()) << d.log();
    EXPECT_TRUE(d.log_lines_with({"TLS handshake", "failed"}).empty()) << d.log();
}

// Refused at accept: no plaintext 429 on a TLS port, only the close.
TEST_F(IntegrationTls, ConnectionOverTheLimitIsClosed) {
    ASSERT_TRUE(d.start(config().server("max_connections_per_client", "1")));
    TlsClient first(d.port(), verified());
    ASSERT_TRUE(first.connected()) << first.error();
    TlsClient second(d.port(), verified());
    EXPECT_FALSE(second.connected());
    EXPECT_EQ(second.error().find("wrong version number"), std::string::npos) << second.error();
    ASSERT_TRUE(first.send(kHello));
    EXPECT_TRUE(first.read_until("Hello, world!\n", 5s)) << first.error();
}
