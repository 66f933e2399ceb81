// Connection handling as HTTP clients rely on it: HTTP/1.1 keeps the
// connection without being asked, HTTP/1.0 and "Connection: close" end it,
// and a client too slow to send its request is dropped.
#include <string>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

std::string keep_alive_get(std::string_view target) {
    // Deliberately no Connection header: HTTP/1.1 means keep-alive.
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

TEST(IntegrationConnection, Http11KeepsTheConnectionWithoutConnectionHeader) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.connected());
    for (std::string name : {"one", "two", "three"}) {
        ASSERT_TRUE(c.send(keep_alive_get("/api/hello/" + name))) << "send failed before request " << name;
        auto r = c.read_response(5s);
        ASSERT_TRUE(r.has_value()) << "no response to request " << name;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "Hello, " + name + "!\n");
        auto connection = r->header("Connection").value_or("");
        EXPECT_EQ(connection.find("close"), std::string::npos) << connection;
    }
    EXPECT_TRUE(c.stays_open(300ms));
}

// The body must be consumed exactly, or its bytes would be taken for the
// next request on the connection.
TEST(IntegrationConnection, RequestWithBodyKeepsTheConnectionUsable) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/echo/up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                       "Content-Length: 11\r\n\r\nhello world"));
    auto posted = c.read_response(5s);
    ASSERT_TRUE(posted.has_value());
    EXPECT_EQ(json_string(parse_json(posted->body), "body"), "hello world") << posted->body;
    ASSERT_TRUE(c.send(keep_alive_get("/api/hello/after")));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r.has_value()) << "connection not usable after a request with a body";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Hello, after!\n");
}

// Requests sent back to back before any answer is read are answered in
// order on the same connection.
TEST(IntegrationConnection, PipelinedRequestsAreAnsweredInOrder) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/hello/first") + keep_alive_get("/api/hello/second")));
    auto first = c.read_response(5s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->body, "Hello, first!\n");
    auto second = c.read_response(5s);
    ASSERT_TRUE(second.has_value()) << "second pipelined request not answered";
    EXPECT_EQ(second->body, "Hello, second!\n");
}

TEST(IntegrationConnection, ErrorAnswersKeepTheConnection) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/nope/x")));
    auto missing = c.read_response(5s);
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(missing->status, 404);
    ASSERT_TRUE(c.send(keep_alive_get("/api/hello/again")));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r.has_value()) << "connection not usable after a 404";
    EXPECT_EQ(r->body, "Hello, again!\n");
}

TEST(IntegrationConnection, CurlReusesOneConnection) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Session session;
    for (int i = 0; i < 4; ++i) {
        Request req;
        req.url = d.url(i % 2 ? "/api/hello/" : "/api/echo/x");
        auto r = session.perform(req);
        ASSERT_EQ(r.status, 200) << r.error << r.body;
        EXPECT_EQ(r.num_connects, i == 0 ? 1 : 0) << "request " << i;
    }
}

TEST(IntegrationConnection, Http10RequestIsAnsweredThenClosed) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/hello/old HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Hello, old!\n");
    EXPECT_TRUE(c.closed_by_peer(3s)) << "HTTP/1.0 connection left open";
}

TEST(IntegrationConnection, ConnectionCloseIsHonoured) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(raw_get("/api/hello/bye")));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "Hello, bye!\n");
    EXPECT_TRUE(c.closed_by_peer(3s)) << "connection left open despite Connection: close";
}

// A plugin may answer from a thread of its own before its handler returns;
// the worker then serves other connections while that thread is still
// inside respond(). Nothing that thread does after its answer went out may
// touch the request the worker serves next. The send gate holds the
// answering thread right after its bytes went out; the next request (on
// another connection, the same worker) lets it go and waits for it.
TEST(IntegrationConnection, AnswerSentWhileTheHandlerRunsSparesTheNextRequest) {
    Daemon d;
    d.set_env("LD_PRELOAD", send_gate_path().string());
    ASSERT_TRUE(d.start(bundled_config()
                            .server("workers", "1")  // every connection on one worker thread
                            .plugin_dir(fixture_plugin_dir("answer-early"))));
    RawConnection early_connection(d.port());
    ASSERT_TRUE(early_connection.send(keep_alive_get("/api/answer-early/")));
    auto early = early_connection.read_response(5s);
    ASSERT_TRUE(early.has_value());
    EXPECT_EQ(early->body, "answered early\n");

    RawConnection next_connection(d.port());
    ASSERT_TRUE(next_connection.send(keep_alive_get("/api/answer-early/open")));
    auto next = next_connection.read_response(5s);
    ASSERT_TRUE(next.has_value()) << "the next request was never answered";
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->body, "opened\n");
    // Both connections still carry requests.
    for (RawConnection* c : {&early_connection, &next_connection}) {
        ASSERT_TRUE(c->send(keep_alive_get("/api/hello/again")));
        auto again = c->read_response(5s);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->body, "Hello, again!\n");
    }
}

TEST(IntegrationConnection, ClientTooSlowToSendHeadersIsDropped) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("header_timeout", "500ms")));
    RawConnection c(d.port());
    auto started = Clock::now();
    ASSERT_TRUE(c.send("GET /api/hello/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    EXPECT_TRUE(c.closed_by_peer(4s)) << "half-sent request still open after 4 s";
    EXPECT_GE(elapsed_ms(started), 400);
    // The slow client cost nobody else anything.
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}

}  // namespace
}  // namespace kerberus::test
