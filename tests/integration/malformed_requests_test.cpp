// Broken HTTP from clients is answered or dropped; it never takes the daemon
// down nor costs other clients anything. Run this under ASan too: these
// inputs are where a parser reads past its buffer if it ever does.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> malformed_inputs() {
    static const char nul_request[] = "GET /api/hello/\0x HTTP/1.1\r\nHost: a\r\n\r\n";
    std::string nul_bytes(nul_request, sizeof(nul_request) - 1);
    return {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /api/hello/ HTTP/9.9\r\nHost: a\r\n\r\n",
        "GET  HTTP/1.1\r\nHost: a\r\n\r\n",
        "BREW /api/hello/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /api/hello/ HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET /api/hello/ HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "GET /api/hello/ HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET /api/hello/ HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /api/echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n0\r\n\r\n",
        "POST /api/echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        "POST /api/echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "POST /api/echo/x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        "POST /api/echo/x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
        "GET /api/hello/%zz HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /api/hello/%00 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET api/hello/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /api/hello/ HTTP/1.1\r\nHost: a\r\nX: " + std::string(200000, 'a') + "\r\n\r\n",
        nul_bytes,
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS ClientHello
    };
}

// Odd but valid: answered normally.
std::vector<std::string> odd_inputs() {
    return {
        "GET /api/hello/? HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /api/echo/x?&&=&a==b&%zz=%zz&=& HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /api/echo/x?a=%F0%9F%98%80%00 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /api/echo/x HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Spaces:    \r\n\r\n",
        "GET /api/echo/" + std::string(3000, 'p') + " HTTP/1.1\r\nHost: a\r\n\r\n",
    };
}

}  // namespace

TEST(IntegrationMalformed, OddButValidRequestsAreServed) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (const std::string& input : odd_inputs()) {
        auto r = raw_exchange(d.port(), input, 2s);
        ASSERT_TRUE(r.has_value()) << "no answer to: " << input.substr(0, 80) << "\n" << d.log();
        EXPECT_EQ(r->status, 200) << "input: " << input.substr(0, 80) << "\n" << r->body;
    }
    EXPECT_TRUE(d.running());
}

TEST(IntegrationMalformed, EveryBrokenRequestLeavesTheDaemonServing) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (const std::string& input : malformed_inputs()) {
        RawConnection c(d.port());
        ASSERT_TRUE(c.connected());
        c.send(input);
        // Whatever the answer (400, 404, 413, 501, or a closed connection),
        // it comes quickly and is never a 2xx for a request that is broken.
        auto r = c.read_response(1s);
        if (r) {
            EXPECT_GE(r->status, 400) << "input: " << input.substr(0, 80);
        }
        ASSERT_TRUE(d.running()) << "daemon died on input: " << input.substr(0, 80) << "\n" << d.log();
    }
    auto ok = get(d.url("/api/hello/still-here"));
    EXPECT_EQ(ok.status, 200) << d.log();
    EXPECT_EQ(ok.body, "Hello, still-here!\n");
}

TEST(IntegrationMalformed, TruncatedRequestsThenCloseLeaveTheDaemonServing) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (const std::string& input : malformed_inputs()) {
        RawConnection c(d.port());
        c.send(input.substr(0, input.size() / 2));
    }  // each connection closes mid-request here
    EXPECT_TRUE(d.running());
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200) << d.log();
}

TEST(IntegrationMalformed, UnparsableRequestGetsAJsonErrorAndTheConnectionCloses) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/hello/ HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n"));
    auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->header("Content-Type").value_or(""), "application/json");
    EXPECT_FALSE(parse_json(r->body).HasParseError()) << r->body;
    EXPECT_TRUE(c.closed_by_peer(2s));
}

// Far past the body limit, the request is refused before it is read whole.
TEST(IntegrationMalformed, HugeBodyGetsA413JsonAnswerAndTheConnectionCloses) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_request_body", "1KiB")));
    RawConnection c(d.port());
    std::string body(300 * 1024, 'x');
    c.send("POST /api/echo/x HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    auto r = c.read_response(3s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->header("Content-Type").value_or(""), "application/json");
    EXPECT_TRUE(c.closed_by_peer(3s));
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}

// A request pipelined behind one a plugin keeps cannot be answered in
// order while it waits; the kept answer closes the connection instead, which
// tells the client to send the rest again.
TEST(IntegrationMalformed, PipelinedBehindAKeptRequestTheAnswerClosesTheConnection) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/echo/delay?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /api/hello/second HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto r = c.read_response(3s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Connection").value_or(""), "close");
    EXPECT_TRUE(c.closed_by_peer(2s));
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}
