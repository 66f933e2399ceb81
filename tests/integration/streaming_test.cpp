// Streamed responses (ABI 1.4) as clients see them: chunked framing for
// unknown lengths, HTTP/1.0 bodies ended by the close, HEAD and no-content
// statuses without content, a stated length held to, streams that outlive
// server.request_timeout, a client leaving, backpressure, and shutdown.
// The streamer fixture logs what the host returned to it.
#include <thread>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

ConfigBuilder streamer_config() { return bundled_config().plugin_dir(fixture_plugin_dir("streamer")); }

std::string get_head(std::string_view target, std::string_view method = "GET", std::string_view version = "HTTP/1.1") {
    return std::string(method) + " " + std::string(target) + " " + std::string(version) +
           "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

std::string keep_alive_get(std::string_view target) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

bool has_line(const std::string& wire, std::string_view line) {
    return wire.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}


class IntegrationStreaming : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(d.start(streamer_config().server("request_timeout", "500ms"))); }
    Daemon d;
};

TEST_F(IntegrationStreaming, AnUnknownLengthGoesChunked) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(get_head("/api/streamer/chunks/3")));
    std::string wire = c.read_to_close(5s);
    ASSERT_TRUE(wire.starts_with("HTTP/1.1 200 OK\r\n")) << wire;
    EXPECT_TRUE(has_line(wire, "Transfer-Encoding: chunked")) << wire;
    EXPECT_TRUE(has_line(wire, "Content-Type: text/plain")) << wire;
    EXPECT_EQ(wire.find("Content-Length"), std::string::npos) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\n8\r\npiece 0\n\r\n8\r\npiece 1\n\r\n8\r\npiece 2\n\r\n0\r\n\r\n")) << wire;
}

TEST_F(IntegrationStreaming, AStreamedAnswerKeepsTheConnectionForTheNextRequest) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/chunks/2")));
    auto first = c.read_response();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->body, "piece 0\npiece 1\n");
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/sized")));
    auto second = c.read_response();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->body, "helloworld");
    EXPECT_TRUE(c.stays_open(200ms));
}

TEST_F(IntegrationStreaming, Http10GetsTheBodyEndedByTheClose) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/streamer/chunks/2 HTTP/1.0\r\n\r\n"));
    std::string wire = c.read_to_close(5s);
    ASSERT_TRUE(wire.starts_with("HTTP/1.0 200 OK\r\n")) << wire;
    EXPECT_TRUE(has_line(wire, "Connection: close")) << wire;
    EXPECT_EQ(wire.find("Transfer-Encoding"), std::string::npos) << wire;
    EXPECT_EQ(wire.find("Content-Length"), std::string::npos) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\npiece 0\npiece 1\n")) << wire;
}

TEST_F(IntegrationStreaming, HeadGetsTheHeadersAlone) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("HEAD /api/streamer/chunks/3 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto head = c.read_response(5s, true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    EXPECT_FALSE(head->header("Content-Length").has_value());
    EXPECT_FALSE(head->header("Transfer-Encoding").has_value());
    // Nothing of the body followed: the next answer parses.
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/sized")));
    auto next = c.read_response();
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->body, "helloworld");
}

// No content follows, so nothing waits for a piece: the head goes out at
// once even though the stream (an endless one here) goes on.
TEST_F(IntegrationStreaming, HeadOfAnEndlessStreamAnswersAtOnce) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("HEAD /api/streamer/ticks/100000 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto started = Clock::now();
    auto head = c.read_response(2s, true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Type").value_or(""), "text/event-stream");
    EXPECT_LT(elapsed_ms(started), 1000);
}

TEST_F(IntegrationStreaming, AStatedLengthIsSentAndHeldTo) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(get_head("/api/streamer/sized")));
    std::string wire = c.read_to_close(5s);
    EXPECT_TRUE(has_line(wire, "Content-Length: 10")) << wire;
    EXPECT_EQ(wire.find("Transfer-Encoding"), std::string::npos) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\nhelloworld")) << wire;
    EXPECT_TRUE(d.wait_for_log({"streamer: sized first=0 over=-1 second=0"})) << d.log();
}

TEST_F(IntegrationStreaming, AContentLengthHeaderStandsInForAnUnknownLength) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(get_head("/api/streamer/header-length")));
    std::string wire = c.read_to_close(5s);
    EXPECT_TRUE(has_line(wire, "Content-Length: 5")) << wire;
    EXPECT_EQ(wire.find("Transfer-Encoding"), std::string::npos) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\nhello")) << wire;
}

TEST_F(IntegrationStreaming, EndingShortOfTheStatedLengthCutsTheConnection) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/short")));
    std::string wire = c.read_to_close(5s);
    EXPECT_TRUE(has_line(wire, "Content-Length: 10")) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\nhello")) << wire;
    EXPECT_TRUE(d.wait_for_log({"streamer: short end=-1"})) << d.log();
}

TEST_F(IntegrationStreaming, AHandlerReturningBeforeTheEndGetsItsStreamCutOff) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/no-end")));
    std::string wire = c.read_to_close(5s);
    EXPECT_TRUE(has_line(wire, "Transfer-Encoding: chunked")) << wire;
    EXPECT_TRUE(wire.ends_with("7\r\npartial\r\n")) << wire;  // no last chunk: incomplete
    EXPECT_TRUE(d.wait_for_log({"before response_end", "/api/streamer/no-end"})) << d.log();
}

TEST_F(IntegrationStreaming, MisuseIsRefusedWithTheDocumentedCodes) {
    auto r = raw_exchange(d.port(), get_head("/api/streamer/misuse"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "ok");
    EXPECT_TRUE(d.wait_for_log({"streamer: misuse bad_status=-1 bad_length=-1 again=-5"})) << d.log();
    EXPECT_TRUE(d.wait_for_log({"streamer: misuse respond=-5"})) << d.log();
}

TEST_F(IntegrationStreaming, NoContentStatusesCarryNone) {
    for (int status : {204, 205, 304}) {
        RawConnection c(d.port());
        ASSERT_TRUE(c.send(get_head("/api/streamer/status/" + std::to_string(status))));
        std::string wire = c.read_to_close(5s);
        ASSERT_TRUE(wire.starts_with("HTTP/1.1 " + std::to_string(status))) << wire;
        EXPECT_TRUE(wire.ends_with("\r\n\r\n")) << status << ": " << wire;
        EXPECT_EQ(wire.find("Transfer-Encoding"), std::string::npos) << wire;
        EXPECT_EQ(wire.find("Content-Length") != std::string::npos, status == 205) << wire;
        if (status == 205) {
            EXPECT_TRUE(has_line(wire, "Content-Length: 0")) << wire;
        }
    }
    // The head is the whole answer and goes out at the start: the handler
    // logs what its write returned after the client already has it.
    auto deadline = Clock::now() + 5s;
    while (d.log_lines_with({"streamer: status write=-1"}).size() < 3 && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(d.log_lines_with({"streamer: status write=-1"}).size(), 3u) << d.log();
}

// Server-Sent Events from a thread of the plugin's, longer than
// server.request_timeout (500 ms here): a started stream has no deadline.
TEST_F(IntegrationStreaming, EventsStreamPastTheRequestTimeout) {
    Request req;
    req.url = d.url("/api/streamer/ticks/50");
    auto started = Clock::now();
    auto r = perform(req);
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_GE(elapsed_ms(started), 900);
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/event-stream");
    EXPECT_TRUE(r.body.starts_with("data: tick 0\n\ndata: tick 1\n\n")) << r.body;
    EXPECT_TRUE(r.body.ends_with("data: tick 49\n\n")) << r.body;
    EXPECT_TRUE(d.wait_for_log({"streamer: ticks sent=50 closed=0"})) << d.log();
}

TEST_F(IntegrationStreaming, AClientLeavingEndsTheStream) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/ticks/100000")));
    ASSERT_TRUE(c.read_until("data: tick 3\n\n", 5s)) << c.received();
    c.close();
    // The stream learns it from the closed event or from its next write
    // (KERBERUS_ERR_CLOSED, -12), whichever comes first.
    ASSERT_TRUE(d.wait_for_log({"streamer: ticks sent="}, 3s)) << d.log();
    auto lines = d.log_lines_with({"streamer: ticks sent="});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].find("closed=1") != std::string::npos || lines[0].ends_with("last=-12")) << lines[0];
    EXPECT_EQ(lines[0].find("sent=100000"), std::string::npos) << lines[0];
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}

// A client that stops reading holds the writer back (KERBERUS_BUSY, then
// KERBERUS_STREAM_WRITABLE) instead of the daemon buffering the body.
TEST_F(IntegrationStreaming, ASlowClientHoldsTheWriterBack) {
    constexpr long kMiB = 64;
    const long before = d.status_kib("VmRSS");
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(get_head("/api/streamer/flood/" + std::to_string(kMiB))));
    std::this_thread::sleep_for(700ms);
    const long stalled = d.status_kib("VmRSS");
    EXPECT_LT(stalled - before, 16 * 1024) << "resident KiB grew from " << before << " to " << stalled;
    auto r = c.read_response(20s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body.size(), static_cast<std::size_t>(kMiB) * 1024 * 1024);
    auto lines = d.log_lines_with({"streamer: flood written=" + std::to_string(kMiB * 1024 * 1024)});
    ASSERT_EQ(lines.size(), 1u) << d.log();
    EXPECT_EQ(lines[0].find("busy=0 "), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find("wakeups=0"), std::string::npos) << lines[0];
}

// Shutdown waits server.shutdown_timeout for streams to end, then cuts off
// the rest (the client sees them incomplete) and stops the plugin, whose
// threads end with it.
TEST(IntegrationStreamingShutdown, StreamsStillOpenAfterTheDrainAreCutOff) {
    Daemon d;
    ASSERT_TRUE(d.start(streamer_config().server("shutdown_timeout", "300ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/ticks/100000")));
    ASSERT_TRUE(c.read_until("data: tick 2\n\n", 5s)) << c.received();
    auto stopping = Clock::now();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    EXPECT_LT(elapsed_ms(stopping), 3000);
    std::string wire = c.read_to_close(2s);
    EXPECT_TRUE(wire.ends_with("\n\n\r\n")) << wire;  // no last chunk
    EXPECT_NE(d.log().find("streamer: ticks sent="), std::string::npos) << d.log();
    EXPECT_NE(d.log().find("streamed responses are cut off"), std::string::npos) << d.log();
}

// A reload that replaces the streaming plugin waits (server.shutdown_timeout)
// for its streams, then stops the old instance, whose stop ends them: the
// client sees its stream complete, and new requests reach the new instance.
TEST(IntegrationStreamingReload, TheOldInstanceEndsItsStreamsAtStop) {
    Daemon d;
    auto config = [](const std::string& generation) {
        return streamer_config()
            .server("shutdown_timeout", "300ms")
            .plugin("streamer", "config: { generation: " + generation + " }");
    };
    ASSERT_TRUE(d.start(config("1")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/streamer/ticks/100000")));
    ASSERT_TRUE(c.read_until("data: tick 2\n\n", 5s)) << c.received();
    d.write_config(config("2"));
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_log({"reloaded:"}, 10s)) << d.log();
    ASSERT_TRUE(c.read_until("\r\n0\r\n\r\n", 5s)) << c.received().substr(c.received().size() - 100);
    auto r = raw_exchange(d.port(), get_head("/api/streamer/sized"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "helloworld");
}

// The echo plugin's Server-Sent Events route: the example of a stream.
TEST(IntegrationEchoEvents, TicksAsServerSentEvents) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/echo/events?interval=10&count=3"));
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/event-stream");
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-cache");
    EXPECT_EQ(r.body,
              "id: 0\nevent: tick\ndata: {\"tick\":0}\n\n"
              "id: 1\nevent: tick\ndata: {\"tick\":1}\n\n"
              "id: 2\nevent: tick\ndata: {\"tick\":2}\n\n");
    // count=0: no limit, as without it.
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/echo/events?interval=10&count=0")));
    EXPECT_TRUE(c.read_until("data: {\"tick\":5}", 5s)) << c.received();
    EXPECT_TRUE(is_error_response(get(d.url("/api/echo/events?interval=soon")), 400, "GET",
                                  "/api/echo/events"));
}

// Until the client leaves: then the stream ends and the request is no
// longer in flight.
TEST(IntegrationEchoEvents, TheStreamEndsWhenTheClientLeaves) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    const std::string in_flight = R"(kerberus_http_requests_in_flight{plugin="echo",route="/events",method="GET"} )";
    RawConnection c(d.port());
    ASSERT_TRUE(c.send(keep_alive_get("/api/echo/events?interval=10")));
    ASSERT_TRUE(c.read_until("data: {\"tick\":5}", 5s)) << c.received();
    EXPECT_NE(get(d.admin_url("/metrics")).body.find(in_flight + "1"), std::string::npos);
    c.close();
    bool ended = false;
    for (int i = 0; i < 100 && !ended; ++i) {
        ended = get(d.admin_url("/metrics")).body.find(in_flight + "0") != std::string::npos;
        if (!ended) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(ended) << get(d.admin_url("/metrics")).body;
}

// ---- Streamed request bodies (ABI 1.5), from a plugin in C ----------------

// A body far larger than server.max_request_body reaches the plugin piece by
// piece; its answer, given in on_end on the worker, keeps the connection.
TEST_F(IntegrationStreaming, AStreamedBodyArrivesWholeAndTheConnectionCarriesOn) {
    constexpr std::size_t kBytes = 5'000'000;
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/streamer/upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(kBytes) +
                       "\r\n\r\n"));
    ASSERT_TRUE(c.send(std::string(kBytes, 'u')));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->body, "received 5000000 bytes, result 0");
    ASSERT_TRUE(c.send("POST /api/streamer/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
    auto chunked = c.read_response(10s);
    ASSERT_TRUE(chunked.has_value()) << d.log();
    EXPECT_EQ(chunked->body, "received 7 bytes, result 0");
}

// An answer before the body is read: the client gets it, with
// "Connection: close", and the rest of the body is never read.
TEST_F(IntegrationStreaming, AnAnswerBeforeTheBodyClosesTheConnection) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/streamer/refuse HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n"));
    ASSERT_TRUE(c.send(std::string(100000, 'r')));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->header("Connection").value_or(""), "close");
    EXPECT_TRUE(c.closed_by_peer(10s));
}

// Expect: 100-continue is answered only once the plugin asks for the body:
// a plugin that refuses first saves the client the upload.
TEST_F(IntegrationStreaming, OneHundredContinueWaitsForThePluginToAsk) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/streamer/refuse HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    auto r = c.read_response(10s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 413);  // no "100 Continue" before it
}

// A body nobody reads: the answer deadline still runs (504, and the
// connection closes, its body unread); the plugin's late answer is told so.
TEST_F(IntegrationStreaming, ABodyNobodyReadsGetsTheDeadline) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/streamer/ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r.has_value()) << d.log();
    EXPECT_EQ(r->status, 504);
    EXPECT_EQ(r->header("Connection").value_or(""), "close");
    EXPECT_TRUE(d.wait_for_log({"streamer: late answer " + std::to_string(KERBERUS_ERR_EXPIRED)}, 5s)) << d.log();
}

}  // namespace
}  // namespace kerberus::test
