// Inputs that once framed requests wrongly on a live connection: each is
// sent as an attacker or an unlucky client would, with the reads split
// where they broke the parser, and must get the answer RFC 9112 gives.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

// A 431 after a request served on the same connection names only what the
// refused request sent. Its request line went out in an earlier read than
// the header bytes that pushed the head over 64 KiB, and the first
// request's buffer is long gone by then.
TEST(IntegrationFramingRegressions, HeadTooLargeAfterAServedRequestNamesOnlyItsOwnRequest) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/echo/" + std::string(2000, 'A') + " HTTP/1.1\r\nHost: a\r\n"));
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(c.send("\r\nGET /next HTTP/1.1\r\nX: "));
    auto first = c.read_response(2s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 200);
    std::string filler(4096, 'b');
    for (int sent = 0; sent < 17; ++sent) {
        std::this_thread::sleep_for(10ms);
        if (!c.send(filler)) break;  // refused already: the daemon stops reading
    }
    auto refused = c.read_response(3s);
    ASSERT_TRUE(refused.has_value());
    EXPECT_TRUE(is_error_response(*refused, 431, "GET", "/next")) << refused->body;
}

// RFC 9112 2.2's bare-LF tolerance ends at the header fields: a chunk line
// ended by LF alone is refused, so no request hides in a body a front
// proxy reads differently.
TEST(IntegrationFramingRegressions, BareLfInAChunkLineIsRefusedNotASecondRequest) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/echo/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n44;\n" +
                       std::string(68, 'x') +
                       "\r\n0\r\n\r\nGET /api/echo/smuggled HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n\r\n0\r\n\r\n"));
    auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 400, "POST", "/api/echo/a")) << r->body;
    EXPECT_TRUE(c.closed_by_peer(2s)) << "a second answer followed: the smuggled request was served";
}

TEST(IntegrationFramingRegressions, LastChunkEndedByBareLfIsRefused) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), "POST /api/echo/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0;x\n\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 400, "POST", "/api/echo/a")) << r->body;
}

// The same bytes, split where a read may end, are the same request.
TEST(IntegrationFramingRegressions, BlankLinesBeforeARequestParseTheSameWhereverTheReadEnds) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    struct Split {
        std::string first, second;
    };
    const std::string request = "GET /api/hello/split HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    for (const Split& s : {Split{"\r\n\r", "\n" + request}, Split{"\n\n\n\r", "\n" + request}}) {
        SCOPED_TRACE(s.first.size());
        RawConnection c(d.port());
        ASSERT_TRUE(c.send(s.first));
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(c.send(s.second));
        auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200) << r->body;
        EXPECT_EQ(r->body, "Hello, split!\n");
    }
}

// Chunked applied twice is a malformed request (RFC 9112 6.1), not a
// transfer coding the server lacks.
TEST(IntegrationFramingRegressions, ChunkedTwiceIs400) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(),
                          "POST /api/echo/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 400, "POST", "/api/echo/a")) << r->body;
}

}  // namespace
