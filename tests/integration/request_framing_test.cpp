// How kerberusd frames requests on a connection (RFC 9112): what it answers
// to requests HTTP/1.1 calls invalid or unsupported, interim responses, and
// what plugins get to see of the request as sent.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

TEST(IntegrationFraming, UnknownMethodIs501AndNamesIt) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("BREW /api/hello/pot HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 501, "BREW", "/api/hello/pot"));
    EXPECT_NE(r->body.find("BREW"), std::string::npos) << r->body;
    EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST(IntegrationFraming, OtherHttpVersionsAre505) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), "GET /api/hello/ HTTP/2.0\r\nHost: a\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 505, "GET", "/api/hello/"));
}

TEST(IntegrationFraming, LaterHttp1MinorVersionIsServedAsHttp11) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), "GET /api/hello/x HTTP/1.7\r\nHost: a\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->version, "HTTP/1.1");
    EXPECT_EQ(r->body, "Hello, x!\n");
}

TEST(IntegrationFraming, Http11WithoutHostIs400) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), "GET /api/hello/ HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 400, "GET", "/api/hello/"));
    EXPECT_NE(r->body.find("Host"), std::string::npos) << r->body;
}

TEST(IntegrationFraming, ExpectContinueGetsAnInterimAnswerBeforeTheBodyIsSent) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/echo/up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
    auto interim = c.read_response(2s);
    ASSERT_TRUE(interim.has_value()) << "no 100 Continue while the client holds its body back";
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(c.send("hello"));
    auto r = c.read_response(2s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json_string(parse_json(r->body), "body"), "hello");
}

TEST(IntegrationFraming, RepeatedHeaderNamesAllReachThePlugin) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(),
                          "GET /api/echo/h HTTP/1.1\r\nHost: a\r\nX-Tag: one\r\nx-tag: two\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200);
    // The echo plugin writes headers as JSON members in request order.
    EXPECT_NE(r->body.find(R"("X-Tag":"one","x-tag":"two")"), std::string::npos) << r->body;
}

TEST(IntegrationFraming, AbsoluteFormTargetIsServedByItsPath) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(),
                          "GET http://example.test/api/echo/abs?x=1 HTTP/1.1\r\nHost: example.test\r\n"
                          "Connection: close\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status, 200) << r->body;
    auto json = parse_json(r->body);
    EXPECT_EQ(json_string(json, "raw_path"), "/api/echo/abs");
    EXPECT_EQ(json_string(json, "query_string"), "x=1");
}

TEST(IntegrationFraming, RequestArrivingByteByByteIsServed) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    std::string request =
        "POST /api/echo/slow HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
    for (char ch : request) ASSERT_TRUE(c.send(std::string_view(&ch, 1)));
    auto r = c.read_response(3s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json_string(parse_json(r->body), "body"), "abcde");
    // And the connection serves the next request.
    ASSERT_TRUE(c.send("GET /api/hello/again HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto again = c.read_response(3s);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->body, "Hello, again!\n");
}

TEST(IntegrationFraming, PipelinedRequestsSplitAcrossReadsAreAnsweredInOrder) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    std::string two = "GET /api/hello/first HTTP/1.1\r\nHost: a\r\n\r\nGET /api/hello/sec";
    ASSERT_TRUE(c.send(two));
    auto first = c.read_response(2s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->body, "Hello, first!\n");
    ASSERT_TRUE(c.send("ond HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto second = c.read_response(2s);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->body, "Hello, second!\n");
}

// An answer larger than the socket takes at once is finished from the write
// queue; the answer pipelined behind it must wait for it, not overtake it.
TEST(IntegrationFraming, AnswerTooLargeForTheSocketKeepsPipelinedOrder) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_request_body", "32MiB")));
    RawConnection c(d.port());
    std::string body(12 * 1024 * 1024, 'x');
    ASSERT_TRUE(c.send("POST /api/echo/big HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n" + body + "GET /api/hello/after HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto big = c.read_response(10s);
    ASSERT_TRUE(big.has_value());
    EXPECT_EQ(big->status, 200);
    EXPECT_EQ(json_string(parse_json(big->body), "body").value_or("").size(), body.size());
    auto after = c.read_response(5s);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->body, "Hello, after!\n");
}

// The second request arrives in a later read, while the plugin still holds
// the first: answering it at once would put its answer first.
TEST(IntegrationFraming, RequestBehindAnUnansweredKeptOneIsNotAnsweredFirst) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/echo/delay?ms=300 HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(c.send("GET /api/hello/second HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto first = c.read_response(3s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 200);
    EXPECT_NE(first->body.find("delayed_ms"), std::string::npos) << "answers out of order: " << first->body;
    // The client is told nothing more comes on this connection.
    EXPECT_TRUE(c.closed_by_peer(2s));
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}

TEST(IntegrationFraming, BlankLineBeforeARequestIsSkipped) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), "\r\nGET /api/hello/blank HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "Hello, blank!\n");
}

}  // namespace
