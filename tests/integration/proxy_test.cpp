// The bundled proxy plugin, configured the Backstage way (proxy.endpoints),
// between a client and an UpstreamServer: what reaches the upstream (path,
// query, headers, body), what comes back, and how failures and hostile paths
// are answered.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <future>
#include <iterator>
#include <vector>

#include "daemon.h"
#include "http_client.h"
#include "proxy_config.h"
#include "upstream_server.h"

namespace kerberus::test {
namespace {

// Bytes of every value, in an order no filter or encoding would preserve by
// accident.
std::string binary_body(std::size_t size, uint32_t seed) {
    std::string body(size, '\0');
    for (auto& c : body) {
        seed = seed * 1664525u + 1013904223u;
        c = static_cast<char>(seed >> 24);
    }
    return body;
}

// Whether a list-valued header names `needle`; tokens are case-insensitive.
bool mentions(const std::optional<std::string>& value, std::string_view needle) {
    if (!value) return false;
    std::string lower(*value), n(needle);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.find(n) != std::string::npos;
}

class IntegrationProxy : public ::testing::Test {
protected:
    ::testing::AssertionResult start(const std::vector<std::string>& endpoints) {
        return d.start(proxy_config(endpoints));
    }
    ::testing::AssertionResult start_simple() { return start({simple_endpoint("/simple", upstream.url("/base"))}); }

    Response send(std::string_view path, std::vector<std::string> headers = {}, std::string method = "GET",
                  std::optional<std::string> body = std::nullopt) {
        Request req;
        req.method = std::move(method);
        req.url = d.url(path);
        req.headers = std::move(headers);
        req.body = std::move(body);
        return perform(req);
    }

    // The upstream's last request; an empty one if none came.
    UpstreamRequest last() const { return upstream.last_request().value_or(UpstreamRequest{}); }
    std::string last_target() const { return last().target; }

    // Sends `path` and expects it to arrive upstream as `target`.
    void expect_forwarded(std::string_view path, std::string_view target) {
        std::size_t before = upstream.requests();
        auto r = send(path);
        EXPECT_EQ(r.status, 200) << path << ": " << r.error << r.body;
        EXPECT_EQ(upstream.requests(), before + 1) << path;
        EXPECT_EQ(last_target(), target) << path;
        // The client gets the upstream's own body.
        EXPECT_EQ(json_string(parse_json(r.body), "target"), std::string(target)) << r.body;
    }

    // The proxy refuses `bad`: one line names endpoints./bad and `what`, its
    // routes answer 503, the secret stays out of the log, hello carries on.
    void expect_refused(const std::string& bad, std::string_view what) {
        ASSERT_TRUE(start({simple_endpoint("/good", upstream.url("")), bad}));
        auto lines = d.log_lines_with({"endpoints./bad"});
        ASSERT_EQ(lines.size(), 1u) << d.log();
        EXPECT_NE(lines[0].find(what), std::string::npos) << lines[0];
        EXPECT_NE(lines[0].find("proxy"), std::string::npos) << lines[0];
        EXPECT_TRUE(is_error_response(send("/api/proxy/bad/x"), 503, "GET", "/api/proxy/bad/x"));
        EXPECT_TRUE(is_error_response(send("/api/proxy/good/x"), 503, "GET", "/api/proxy/good/x"));
        EXPECT_EQ(upstream.requests(), 0u);
        EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
        EXPECT_EQ(d.log().find("s3cret"), std::string::npos) << d.log();
    }

    UpstreamServer upstream;
    Daemon d;
};

// ---- Routing --------------------------------------------------------------

TEST_F(IntegrationProxy, RestOfPathAndRawQueryAreAppendedToTheTarget) {
    ASSERT_TRUE(start_simple());
    expect_forwarded("/api/proxy/simple/a/b?x=1&x=2", "/base/a/b?x=1&x=2");
    expect_forwarded("/api/proxy/simple/a?y=a%20b%2Bc&x=2&x=1&flag", "/base/a?y=a%20b%2Bc&x=2&x=1&flag");
    EXPECT_EQ(last().method, "GET");
}

TEST_F(IntegrationProxy, EndpointRootIsTheTargetPath) {
    ASSERT_TRUE(start_simple());
    expect_forwarded("/api/proxy/simple", "/base");
    expect_forwarded("/api/proxy/simple?q=1", "/base?q=1");
}

TEST_F(IntegrationProxy, LongestMatchingKeyWinsOnWholeSegments) {
    ASSERT_TRUE(start({simple_endpoint("/simple", upstream.url("/base")),
                       simple_endpoint("/simple/deeper", upstream.url("/deep"))}));
    expect_forwarded("/api/proxy/simple/deeper/x", "/deep/x");
    expect_forwarded("/api/proxy/simple/deeper", "/deep");
    expect_forwarded("/api/proxy/simple/deeperx", "/base/deeperx");
    expect_forwarded("/api/proxy/simple/other", "/base/other");
}

TEST_F(IntegrationProxy, PathRewriteAppliesToTheFullPath) {
    ASSERT_TRUE(start({endpoint("/rw", upstream.url("/t"), "pathRewrite: { '^/api/proxy/rw/': '/v2/' }")}));
    expect_forwarded("/api/proxy/rw/items?k=v", "/t/v2/items?k=v");
}

TEST_F(IntegrationProxy, UnknownEndpointIs404WithoutUpstreamTraffic) {
    ASSERT_TRUE(start_simple());
    auto r = send("/api/proxy/nothing/here");
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(upstream.requests(), 0u);
}

// ---- Headers --------------------------------------------------------------

TEST_F(IntegrationProxy, SafeRequestHeadersPassAndOthersDoNot) {
    ASSERT_TRUE(start_simple());
    auto r = send("/api/proxy/simple/h",
                  {"Accept: application/xml", "Content-Type: text/csv", "User-Agent: kerberus-test/1",
                   "Cache-Control: no-cache", "Accept-Language: de", "Pragma: no-cache", "X-Random: r",
                   "X-Custom: c"},
                  "POST", "a,b\n");
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->header("Accept"), "application/xml");
    EXPECT_EQ(seen->header("Content-Type"), "text/csv");
    EXPECT_EQ(seen->header("User-Agent"), "kerberus-test/1");
    EXPECT_EQ(seen->header("Cache-Control"), "no-cache");
    EXPECT_EQ(seen->header("Accept-Language"), "de");
    EXPECT_EQ(seen->header("Pragma"), "no-cache");
    EXPECT_FALSE(seen->has_header("X-Random"));
    EXPECT_FALSE(seen->has_header("X-Custom"));
    EXPECT_EQ(seen->body, "a,b\n");
}

TEST_F(IntegrationProxy, AllowedHeadersPassBothWays) {
    ASSERT_TRUE(start({endpoint("/ah", upstream.url(""), "allowedHeaders: [X-Custom]"),
                       simple_endpoint("/simple", upstream.url(""))}));
    auto r = send("/api/proxy/ah/status/200", {"x-custom: c", "X-Random: r"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->header("X-Custom"), "c");
    EXPECT_FALSE(seen->has_header("X-Random"));
    EXPECT_EQ(r.header("X-Custom"), "upstream");
    EXPECT_FALSE(r.header("X-Upstream-Custom").has_value());
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    EXPECT_TRUE(r.header("Content-Type").value_or("").starts_with("application/json"));

    auto plain = send("/api/proxy/simple/status/200", {"X-Custom: c"});
    ASSERT_EQ(plain.status, 200) << plain.error << plain.body;
    EXPECT_FALSE(last().has_header("X-Custom"));
    EXPECT_FALSE(plain.header("X-Custom").has_value());
    EXPECT_FALSE(plain.header("X-Upstream-Custom").has_value());
    EXPECT_EQ(plain.header("Cache-Control"), "no-store");
}

// The configured secret reaches the upstream and nothing else: not the log
// (at trace level, through success, upstream errors, refusal and timeout).
TEST_F(IntegrationProxy, ConfiguredHeadersAreAddedAndNeverLogged) {
    const std::string secret = "headers: { X-Api-Key: s3cret }";
    ASSERT_TRUE(d.start(proxy_config({endpoint("/keyed", upstream.url(""), secret),
                                      endpoint("/keyed-down", "http://127.0.0.1:" + std::to_string(unused_port()),
                                               secret),
                                      endpoint("/keyed-slow", upstream.url(""), secret + ", timeout: 300ms")})
                            .log_level("trace")));
    auto r = send("/api/proxy/keyed/x", {"X-Api-Key: forged"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(last().header_values("X-Api-Key"), std::vector<std::string>{"s3cret"});

    EXPECT_EQ(send("/api/proxy/keyed/status/500").status, 500);
    EXPECT_EQ(send("/api/proxy/keyed-down/x").status, 502);
    EXPECT_EQ(send("/api/proxy/keyed-slow/sleep/2000").status, 504);
    EXPECT_EQ(send("/api/proxy/keyed/x", {}, "DELETE", "gone").status, 200);
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(10s), 0);
    EXPECT_EQ(d.log().find("s3cret"), std::string::npos) << d.log();
    EXPECT_EQ(d.out().find("s3cret"), std::string::npos) << d.out();
}

TEST_F(IntegrationProxy, CredentialsAreNotForwardedByDefault) {
    ASSERT_TRUE(start_simple());
    auto r = send("/api/proxy/simple/status/200", {"Authorization: Bearer t0ken", "Cookie: c=1"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_FALSE(seen->has_header("Authorization"));
    EXPECT_FALSE(seen->has_header("Cookie"));
    EXPECT_FALSE(r.header("Set-Cookie").has_value());
}

// Backstage's meaning: `forward` passes the caller's Authorization and
// nothing else.
TEST_F(IntegrationProxy, ForwardedCredentialsAreTheAuthorizationAlone) {
    ASSERT_TRUE(start({endpoint("/cred", upstream.url(""), "credentials: forward")}));
    auto r = send("/api/proxy/cred/status/200", {"Authorization: Bearer t0ken", "Cookie: c=1"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->header("Authorization"), "Bearer t0ken");
    EXPECT_FALSE(seen->has_header("Cookie"));
    EXPECT_FALSE(r.header("Set-Cookie").has_value());
}

// Cookies pass where allowedHeaders names them, whatever `credentials` is,
// as in Backstage: the same pasted config means the same thing.
TEST_F(IntegrationProxy, AllowedHeadersPassCookiesBothWaysWithTheDefaultCredentials) {
    ASSERT_TRUE(start({endpoint("/cookies", upstream.url(""), "allowedHeaders: [Cookie, Set-Cookie]")}));
    auto r = send("/api/proxy/cookies/status/200", {"Authorization: Bearer t0ken", "Cookie: c=1"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->header("Cookie"), "c=1");
    EXPECT_FALSE(seen->has_header("Authorization"));
    EXPECT_EQ(r.header("Set-Cookie"), "s=1");
    EXPECT_TRUE(d.log_lines_with({"allowedHeaders"}).empty()) << d.log();
}

// Hop-by-hop headers belong to one connection; allowing them by name must
// not carry them across.
TEST_F(IntegrationProxy, HopByHopRequestHeadersNeverReachTheUpstream) {
    ASSERT_TRUE(start({endpoint("/hop", upstream.url(""),
                                "allowedHeaders: [X-Hop, Keep-Alive, TE, Upgrade, Proxy-Authorization, "
                                "Proxy-Connection, Connection]")}));
    auto r = send("/api/proxy/hop/x", {"Connection: X-Hop", "X-Hop: 1", "Keep-Alive: timeout=7", "TE: trailers",
                                       "Upgrade: h2c", "Proxy-Authorization: Basic eDp5",
                                       "Proxy-Connection: keep-alive"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    for (const char* name : {"X-Hop", "Keep-Alive", "TE", "Upgrade", "Proxy-Authorization"})
        EXPECT_FALSE(seen->has_header(name)) << name << ": " << seen->header(name).value_or("");
    // RFC 9110, 7.6.1: removed by intermediaries whether or not Connection
    // lists it.
    EXPECT_FALSE(seen->has_header("Proxy-Connection")) << "Proxy-Connection: " << *seen->header("Proxy-Connection");
    EXPECT_FALSE(mentions(seen->header("Connection"), "x-hop")) << *seen->header("Connection");
}

TEST_F(IntegrationProxy, HopByHopResponseHeadersNeverReachTheClient) {
    ASSERT_TRUE(start({endpoint("/hop", upstream.url(""), "allowedHeaders: [X-Hop, Keep-Alive, Connection]")}));
    auto r = send("/api/proxy/hop/status/200");
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_FALSE(r.header("X-Hop").has_value()) << *r.header("X-Hop");
    EXPECT_FALSE(r.header("Keep-Alive").has_value()) << *r.header("Keep-Alive");
    EXPECT_FALSE(mentions(r.header("Connection"), "x-hop")) << *r.header("Connection");
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
}

TEST_F(IntegrationProxy, ForwardedHeadersAreSetAndHostIsTheTargetsByDefault) {
    ASSERT_TRUE(start_simple());
    auto r = send("/api/proxy/simple/f", {"Host: client.example:8080", "X-Forwarded-For: 10.1.2.3"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->header_values("X-Forwarded-For"), std::vector<std::string>{"10.1.2.3, 127.0.0.1"});
    EXPECT_EQ(seen->header("X-Forwarded-Proto"), "http");
    EXPECT_EQ(seen->header("X-Forwarded-Host"), "client.example:8080");
    EXPECT_EQ(seen->header_values("Host"), std::vector<std::string>{upstream.authority()});

    ASSERT_EQ(send("/api/proxy/simple/f").status, 200);
    EXPECT_EQ(last().header_values("X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
}

TEST_F(IntegrationProxy, ChangeOriginFalseKeepsTheClientsHost) {
    ASSERT_TRUE(start({endpoint("/keep", upstream.url(""), "changeOrigin: false")}));
    auto r = send("/api/proxy/keep/f", {"Host: client.example:8080"});
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(last().header_values("Host"), std::vector<std::string>{"client.example:8080"});
}

// ---- Methods and bodies ---------------------------------------------------

// The operator's list is exact, as in Backstage: GET does not bring HEAD.
TEST_F(IntegrationProxy, MethodsOutsideAllowedMethodsGet405) {
    ASSERT_TRUE(start({endpoint("/ro", upstream.url(""), "allowedMethods: [GET]")}));
    auto r = send("/api/proxy/ro/x", {"Content-Type: text/plain"}, "POST", "body");
    EXPECT_TRUE(is_error_response(r, 405, "POST", "/api/proxy/ro/x"));
    EXPECT_EQ(r.header("Allow").value_or("<none>"), "GET");
    EXPECT_TRUE(is_error_response(send("/api/proxy/ro/x", {}, "DELETE"), 405, "DELETE", "/api/proxy/ro/x"));
    auto head = send("/api/proxy/ro/x", {}, "HEAD");
    EXPECT_EQ(head.status, 405);
    EXPECT_EQ(head.header("Allow").value_or("<none>"), "GET");
    EXPECT_EQ(upstream.requests(), 0u);
    EXPECT_EQ(send("/api/proxy/ro/x").status, 200);
    EXPECT_EQ(upstream.requests(), 1u);
}

// ---- What comes back (RFC 9110 8.3, 8.6, 9.3.2) ------------------------------

// The length a GET would have had, as the upstream stated it for the HEAD.
TEST_F(IntegrationProxy, HeadRelaysTheLengthTheUpstreamStated) {
    ASSERT_TRUE(start_simple());
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("HEAD /api/proxy/simple/big/1234 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto head = c.read_response(3s, true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Length"), "1234");
    EXPECT_EQ(last().method, "HEAD");
    // No body followed: the connection carries the next answer cleanly,
    // however soon the client sends it (the head is the whole answer, and
    // counts as given as it goes out).
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(c.send("GET /api/proxy/simple/big/10 HTTP/1.1\r\nHost: a\r\n\r\n"));
        auto next = c.read_response(3s);
        ASSERT_TRUE(next.has_value()) << "round " << i;
        EXPECT_EQ(next->body, std::string(10, 'x'));
        ASSERT_TRUE(c.send("HEAD /api/proxy/simple/big/1234 HTTP/1.1\r\nHost: a\r\n\r\n"));
        auto again = c.read_response(3s, true);
        ASSERT_TRUE(again.has_value()) << "round " << i;
        EXPECT_EQ(again->header("Content-Length"), "1234");
    }
}

TEST_F(IntegrationProxy, NoContentAnswersAreRelayedWithoutAContentLength) {
    ASSERT_TRUE(start_simple());
    for (const char* code : {"204", "304"}) {
        SCOPED_TRACE(code);
        RawConnection c(d.port());
        ASSERT_TRUE(c.send(std::string("GET /api/proxy/simple/status/") + code +
                           " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
        std::string bytes = c.read_to_close(3s);
        ASSERT_TRUE(bytes.starts_with(std::string("HTTP/1.1 ") + code + " ")) << bytes;
        EXPECT_EQ(bytes.find("Content-Length"), std::string::npos) << bytes;
        EXPECT_TRUE(bytes.ends_with("\r\n\r\n")) << bytes;
    }
}

// Backstage applies pathRewrite rules in the order written, first match
// wins; the config keeps that order.
TEST_F(IntegrationProxy, PathRewriteRulesApplyInTheOrderWritten) {
    ASSERT_TRUE(start({endpoint("/rewrite", upstream.url(""),
                                "pathRewrite: { '^/api/proxy/rewrite/v1/(.*)$': '/v2/$1', "
                                "'^/api/proxy/rewrite/': '/rewritten/' }")}));
    expect_forwarded("/api/proxy/rewrite/v1/deep/x", "/v2/deep/x");
    expect_forwarded("/api/proxy/rewrite/other", "/rewritten/other");
}

TEST_F(IntegrationProxy, HeadIsForwardedWhereListed) {
    ASSERT_TRUE(start({endpoint("/rh", upstream.url(""), "allowedMethods: [GET, HEAD]")}));
    EXPECT_EQ(send("/api/proxy/rh/x", {}, "HEAD").status, 200);
    EXPECT_EQ(upstream.requests(), 1u);
    EXPECT_EQ(last().method, "HEAD");
}

TEST_F(IntegrationProxy, RequestBodiesArriveByteForByte) {
    ASSERT_TRUE(d.start(proxy_config({simple_endpoint("/simple", upstream.url(""))}).server("max_request_body",
                                                                                             "4MiB")));
    // Upstream answers 204: only the way in is under test here.
    const std::string big = binary_body(1024 * 1024, 7);
    auto r = send("/api/proxy/simple/status/204", {"Content-Type: application/octet-stream"}, "POST", big);
    EXPECT_EQ(r.status, 204) << r.error << r.body.substr(0, 300);
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->method, "POST");
    EXPECT_EQ(seen->body.size(), big.size());
    EXPECT_TRUE(seen->body == big) << "the 1 MiB body changed on the way";

    for (std::string method : {"PUT", "PATCH"}) {
        static constexpr char kTail[] = " body \r\n\0 end";
        std::string body = method + std::string(kTail, sizeof kTail - 1);
        auto m = send("/api/proxy/simple/m", {"Content-Type: text/plain"}, method, body);
        EXPECT_EQ(m.status, 200) << method << " " << m.error << m.body;
        EXPECT_EQ(last().method, method);
        EXPECT_EQ(last().body, body) << method;
    }
}

TEST_F(IntegrationProxy, ChunkedRequestBodyArrivesWhole) {
    ASSERT_TRUE(start_simple());
    const std::string body = binary_body(100'000, 11);
    std::string wire =
        "POST /api/proxy/simple/status/204 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    // Uneven chunk sizes, so no boundary lines up with anything.
    std::size_t sizes[] = {1, 4096, 333, 70'000};
    std::size_t at = 0;
    for (std::size_t i = 0; at < body.size(); ++i) {
        std::size_t n = std::min(sizes[i % std::size(sizes)], body.size() - at);
        char hex[32];
        std::snprintf(hex, sizeof hex, "%zx", n);
        wire += std::string(hex) + "\r\n" + body.substr(at, n) + "\r\n";
        at += n;
    }
    wire += "0\r\n\r\n";
    auto r = raw_exchange(d.port(), wire);
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_EQ(r->status, 204) << r->body.substr(0, 300);
    auto seen = upstream.last_request();
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->body.size(), body.size());
    EXPECT_TRUE(seen->body == body) << "the chunked body changed on the way";
}

TEST_F(IntegrationProxy, UpstreamStatusAndChunkedBodyPassThrough) {
    ASSERT_TRUE(start_simple());
    auto r = send("/api/proxy/simple/chunked");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, UpstreamServer::kChunkedBody);
    auto failing = send("/api/proxy/simple/status/503");
    EXPECT_EQ(failing.status, 503) << failing.body;
    EXPECT_EQ(json_string(parse_json(failing.body), "target"), "/base/status/503") << failing.body;
}

// ---- Failures -------------------------------------------------------------

TEST_F(IntegrationProxy, UnreachableTargetIs502NamingTheEndpoint) {
    ASSERT_TRUE(start({simple_endpoint("/down", "http://127.0.0.1:" + std::to_string(unused_port()) + "/x")}));
    auto started = Clock::now();
    auto r = send("/api/proxy/down/y");
    EXPECT_LT(elapsed_ms(started), 3000);
    ASSERT_TRUE(is_error_response(r, 502, "GET", "/api/proxy/down/y"));
    auto message = json_string(parse_json(r.body)["error"], "message").value_or("");
    EXPECT_NE(message.find("/down"), std::string::npos) << message;
}

TEST_F(IntegrationProxy, SlowUpstreamIs504AfterTheEndpointTimeout) {
    ASSERT_TRUE(start({endpoint("/slow", upstream.url(""), "timeout: 300ms")}));
    auto started = Clock::now();
    auto r = send("/api/proxy/slow/sleep/2000");
    auto elapsed = elapsed_ms(started);
    EXPECT_TRUE(is_error_response(r, 504, "GET", "/api/proxy/slow/sleep/2000"));
    EXPECT_GE(elapsed, 250);
    EXPECT_LT(elapsed, 1000);
}

TEST_F(IntegrationProxy, UpstreamResponseOverTheCapIs502) {
    ASSERT_TRUE(start({endpoint("/capped", upstream.url(""), "maxResponseSize: 1000")}));
    auto at = send("/api/proxy/capped/big/1000");
    EXPECT_EQ(at.status, 200) << at.error;
    EXPECT_EQ(at.body, std::string(1000, 'x'));
    auto over = send("/api/proxy/capped/big/100000");
    EXPECT_TRUE(is_error_response(over, 502, "GET", "/api/proxy/capped/big/100000"));
}

// A relayed answer keeps the upstream's headers: no type is invented.
TEST_F(IntegrationProxy, AnUntypedUpstreamBodyStaysUntyped) {
    ASSERT_TRUE(start_simple());
    auto r = send("/api/proxy/simple/untyped/3000");
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_FALSE(r.header("Content-Type").has_value()) << *r.header("Content-Type");
    EXPECT_EQ(r.body, untyped_body(3000));
}


// GitLab's API names a project "team%2Fservice", and Backstage's GitLab
// plugins call it through the proxy: the upstream gets the bytes as sent.
TEST_F(IntegrationProxy, EncodedSlashesAreForwardedVerbatim) {
    ASSERT_TRUE(start({simple_endpoint("/gitlab", upstream.url("/api/v4"))}));
    expect_forwarded("/api/proxy/gitlab/projects/team%2Fservice", "/api/v4/projects/team%2Fservice");
    expect_forwarded("/api/proxy/gitlab/projects/team%2fservice/repository/files/src%2Fmain.c/raw?ref=main",
                     "/api/v4/projects/team%2fservice/repository/files/src%2Fmain.c/raw?ref=main");
    expect_forwarded("/api/proxy/gitlab/a%5Cb%25c", "/api/v4/a%5Cb%25c");
}

// Encoded dot segments, also between encoded slashes, are how clients
// escape a target's path; they are refused before anything is sent.
TEST_F(IntegrationProxy, EncodedTraversalIsRefusedBeforeTheUpstream) {
    ASSERT_TRUE(start_simple());
    for (std::string path : {"/api/proxy/simple/..%2f..%2fetc", "/api/proxy/simple/%2e%2e/x",
                             "/api/proxy/simple/%2E%2E/x", "/api/proxy/simple/a%2F..%2F..%2Fb",
                             "/api/proxy/simple/a%5C..", "/api/proxy/simple/a/%2e%2e"}) {
        auto r = raw_exchange(d.port(), raw_get(path));
        ASSERT_TRUE(r.has_value()) << path << ": no response";
        EXPECT_EQ(r->status, 400) << path << ": " << r->body;
    }
    EXPECT_EQ(upstream.requests(), 0u) << "reached upstream as " << last_target();
}

// ---- Configuration errors -------------------------------------------------

TEST_F(IntegrationProxy, BadTargetUrlStopsThePlugin) {
    expect_refused("'/bad': { target: 'htp:/nowhere', headers: { X-Api-Key: s3cret } }", "target");
}

TEST_F(IntegrationProxy, BadPathRewriteRegexStopsThePlugin) {
    expect_refused(endpoint("/bad", upstream.url(""), "pathRewrite: { '^/(': '/' }, headers: { X-Api-Key: s3cret }"),
                   "pathRewrite");
}

// The proxy's config schema catches what has the wrong shape before the
// plugin starts: a configuration error, with the position and key path.
TEST_F(IntegrationProxy, SettingsOutsideTheConfigSchemaAreAConfigurationError) {
    struct Bad {
        std::string endpoint;
        std::string message;
    };
    for (const Bad& bad : {
             Bad{endpoint("/bad", upstream.url(""), "bogus: 1, headers: { X-Api-Key: s3cret }"),
                 "plugins.proxy.config.endpoints./bad.bogus: unknown key \"bogus\" (expected one of: target, "
                 "changeOrigin, pathRewrite, headers, allowedMethods, allowedHeaders, credentials, timeout, "
                 "maxResponseSize, ws)"},
             Bad{"'/bad': { headers: { X-Api-Key: s3cret } }",
                 "plugins.proxy.config.endpoints./bad: missing required key \"target\""},
             Bad{endpoint("/bad", upstream.url(""), "credentials: always"),
                 "plugins.proxy.config.endpoints./bad.credentials: expected one of \"require\", \"forward\", "
                 "\"dangerously-allow-unauthenticated\""},
             Bad{endpoint("/bad", upstream.url(""), "changeOrigin: maybe"),
                 "plugins.proxy.config.endpoints./bad.changeOrigin: expected a boolean, got a string"},
             Bad{endpoint("/bad", upstream.url(""), "allowedMethods: []"),
                 "plugins.proxy.config.endpoints./bad.allowedMethods: needs at least 1 items"},
             Bad{"'/bad': 42", "plugins.proxy.config.endpoints./bad: expected a string or a map, got an integer"},
         }) {
        SCOPED_TRACE(bad.endpoint);
        Daemon check;
        auto config = check.write_config(proxy_config({bad.endpoint}));
        RunResult run = check.run_to_exit({"--config", config.string()});
        EXPECT_EQ(run.status, 78) << run.err;
        EXPECT_NE(run.err.find(config.string() + ":"), std::string::npos) << run.err;
        EXPECT_NE(run.err.find(bad.message + " (the plugin's config schema)"), std::string::npos) << run.err;
        EXPECT_EQ(run.err.find("s3cret"), std::string::npos) << run.err;
        RunResult checked = check.run_to_exit({"--config", config.string(), "--check"});
        EXPECT_EQ(checked.status, 78) << checked.err;
        EXPECT_NE(checked.err.find(bad.message), std::string::npos) << checked.err;
    }
}

// ---- Load -----------------------------------------------------------------

// 100 clients at once, each on its own connection: all are answered, with
// at most outbound.max_connections_per_host (32) upstream requests in
// progress at once across the worker threads. Each worker keeps its own
// idle connections and gives them up after a moment when another waits for
// a place, so over the run at most 32 per worker are opened.
TEST_F(IntegrationProxy, HundredConcurrentClientsShareUpstreamConnections) {
    ASSERT_TRUE(start_simple());
    constexpr int kClients = 100;
    std::vector<std::future<Response>> pending;
    for (int i = 0; i < kClients; ++i)
        pending.push_back(std::async(std::launch::async, [this, i] {
            Request req;
            req.url = d.url("/api/proxy/simple/c/" + std::to_string(i) + "/sleep/50");
            req.timeout = 10s;
            return perform(req);
        }));
    for (int i = 0; i < kClients; ++i) {
        auto r = pending[i].get();
        ASSERT_EQ(r.status, 200) << i << ": " << r.error << r.body;
        EXPECT_EQ(json_string(parse_json(r.body), "target"), "/base/c/" + std::to_string(i) + "/sleep/50");
    }
    EXPECT_EQ(upstream.requests(), static_cast<std::size_t>(kClients));
    EXPECT_LE(upstream.peak_sleeping(), 32u);
    EXPECT_LE(upstream.connections(), 64u);  // the tests' two workers
}

}  // namespace
}  // namespace kerberus::test
