// The plain-http client's response parser, fed every response split at every
// possible point (and byte by byte): recv() may cut anywhere.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "outbound/response_parser.h"

namespace kerberus::outbound {
namespace {

using State = ResponseParser::State;

struct Outcome {
    State state = State::head;
    int status = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
    bool reusable = false;
    std::size_t consumed = 0;
    std::string error;

    // How much of a failed response was read depends on where it was cut.
    bool operator==(const Outcome& o) const {
        if (state == State::malformed || state == State::too_large) return state == o.state;
        return state == o.state && status == o.status && fields == o.fields && body == o.body &&
               reusable == o.reusable && consumed == o.consumed;
    }
};

struct Options {
    bool head_request = false;
    uint64_t max_body = 1024;
    bool close_at_end = false;  // the peer closes after the bytes
    bool streaming = false;     // the body is taken (and cleared) after each piece
};

Outcome run(const std::vector<std::string_view>& pieces, const Options& o) {
    ResponseParser p;
    p.reset(o.head_request, o.max_body, o.streaming);
    Outcome out;
    auto take = [&] {
        if (!o.streaming) return;
        out.body += p.body();
        p.clear_body();
    };
    for (std::string_view piece : pieces) {
        if (p.finished()) break;
        out.consumed += p.feed(piece.data(), piece.size());
        take();
    }
    if (o.close_at_end && !p.finished()) p.eof();
    take();
    out.state = p.state();
    out.status = p.status();
    for (const auto& f : p.fields()) out.fields.emplace_back(f.name, f.value);
    if (!o.streaming) out.body = p.body();
    out.reusable = p.reusable();
    out.error = p.error();
    return out;
}

// The outcome of `bytes` fed whole, after checking that every two-piece
// split and a byte-by-byte feed give the very same outcome.
Outcome parse(std::string_view bytes, Options o = {}) {
    Outcome whole = run({bytes}, o);
    for (std::size_t i = 0; i <= bytes.size(); ++i) {
        Outcome split = run({bytes.substr(0, i), bytes.substr(i)}, o);
        EXPECT_EQ(split, whole) << "split at " << i << " of " << bytes.size() << ": " << split.error;
        if (!(split == whole)) break;
    }
    std::vector<std::string_view> bytewise;
    for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
    EXPECT_EQ(run(bytewise, o), whole) << "byte by byte";
    // Taken piece by piece (outbound_stream), the body adds up the same and
    // the limit counts all of it.
    if (!o.streaming) {
        Options streamed = o;
        streamed.streaming = true;
        EXPECT_EQ(run(bytewise, streamed), whole) << "streamed byte by byte";
        for (std::size_t i = 0; i <= bytes.size(); i += 7) {
            EXPECT_EQ(run({bytes.substr(0, i), bytes.substr(i)}, streamed), whole) << "streamed, split at " << i;
        }
    }
    return whole;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(OutboundResponseParser, ContentLengthBodyWithRepeatedFieldsInOrder) {
    auto r = parse(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A:  one \r\nx-a:two\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.fields,
              (Fields{{"Content-Type", "text/plain"}, {"X-A", "one"}, {"x-a", "two"}, {"Content-Length", "5"}}));
    EXPECT_EQ(r.body, "hello");
    EXPECT_TRUE(r.reusable);
}

TEST(OutboundResponseParser, BytesAfterTheResponseAreNotConsumed) {
    std::string_view bytes = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
    auto r = parse(bytes);
    EXPECT_EQ(r.state, State::done);
    EXPECT_EQ(r.body, "ok");
    EXPECT_EQ(r.consumed, bytes.size() - 5);
}

TEST(OutboundResponseParser, ChunkedBodyIsDechunkedAndTrailersDropped) {
    auto r = parse(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n6 ; name=\"v\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n");
    EXPECT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.body, "hello world0123456789");
    EXPECT_EQ(r.fields, (Fields{{"Transfer-Encoding", "chunked"}}));
    EXPECT_TRUE(r.reusable);
}

TEST(OutboundResponseParser, ChunkedWithoutTrailersAndBareLineFeeds) {
    auto r = parse("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\n3\nabc\n0\n\n");
    EXPECT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.body, "abc");
    EXPECT_TRUE(r.reusable);
}

TEST(OutboundResponseParser, CloseDelimitedBodyEndsAtEof) {
    std::string_view bytes = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    auto open = parse(bytes);
    EXPECT_EQ(open.state, State::body);
    auto closed = parse(bytes, {.close_at_end = true});
    EXPECT_EQ(closed.state, State::done) << closed.error;
    EXPECT_EQ(closed.body, "until the end");
    EXPECT_FALSE(closed.reusable);
}

TEST(OutboundResponseParser, NonChunkedTransferEncodingIsCloseDelimited) {
    auto r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", {.close_at_end = true});
    EXPECT_EQ(r.state, State::done);
    EXPECT_EQ(r.body, "zzz");
    EXPECT_FALSE(r.reusable);
}

TEST(OutboundResponseParser, InterimResponsesAreSkipped) {
    auto r = parse(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.fields, (Fields{{"Content-Length", "2"}}));
    EXPECT_EQ(r.body, "ok");
}

TEST(OutboundResponseParser, HeadAnd204And304HaveNoBody) {
    auto head = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", {.head_request = true});
    EXPECT_EQ(head.state, State::done);
    EXPECT_EQ(head.body, "");
    EXPECT_TRUE(head.reusable);
    auto head_chunked = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {.head_request = true});
    EXPECT_EQ(head_chunked.state, State::done);
    for (std::string_view bytes : {"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
                                   "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
        auto r = parse(bytes);
        EXPECT_EQ(r.state, State::done) << bytes;
        EXPECT_EQ(r.body, "");
        EXPECT_TRUE(r.reusable);
        EXPECT_EQ(r.consumed, bytes.size());
    }
}

TEST(OutboundResponseParser, StatusLineWithoutReasonAndHttp10) {
    auto bare = parse("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(bare.state, State::done) << bare.error;
    EXPECT_EQ(bare.status, 404);
    auto http10 = parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_EQ(http10.state, State::done);
    EXPECT_FALSE(http10.reusable);
    auto http10_keep = parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_TRUE(http10_keep.reusable);
}

TEST(OutboundResponseParser, ConnectionCloseForbidsReuse) {
    auto r = parse("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_EQ(r.state, State::done);
    EXPECT_FALSE(r.reusable);
}

TEST(OutboundResponseParser, TransferEncodingWinsOverContentLengthButForbidsReuse) {
    auto r = parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
    EXPECT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.body, "hi");
    EXPECT_FALSE(r.reusable);
}

TEST(OutboundResponseParser, RepeatedEqualContentLengthsAreAccepted) {
    auto r = parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.body, "ok");
}

TEST(OutboundResponseParser, BadFramingIsMalformed) {
    for (std::string_view bytes : {
             "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
             "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
             "HTTP/2 200 OK\r\n\r\n",
             "ICY 200 OK\r\n\r\n",
             "HTTP/1.1 2000 OK\r\n\r\n",
             "HTTP/1.1 099 Low\r\n\r\n",
             "HTTP/1.1 101 Switching Protocols\r\n\r\n",
             "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
             "HTTP/1.1 200 OK\r\nName : value\r\n\r\n",
             "HTTP/1.1 200 OK\r\n: value\r\n\r\n",
             "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n",
         }) {
        auto r = parse(bytes, {.close_at_end = true});
        EXPECT_EQ(r.state, State::malformed) << bytes;
        EXPECT_FALSE(r.error.empty()) << bytes;
        EXPECT_FALSE(r.reusable);
    }
}

TEST(OutboundResponseParser, EarlyEofIsMalformedAndSaysWhere) {
    auto none = parse("", {.close_at_end = true});
    EXPECT_EQ(none.state, State::malformed);
    EXPECT_EQ(none.error, "connection closed before any response byte");
    auto head = parse("HTTP/1.1 200 OK\r\nContent-Le", {.close_at_end = true});
    EXPECT_EQ(head.state, State::malformed);
    EXPECT_EQ(head.error, "connection closed in the middle of the response head");
    auto body = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", {.close_at_end = true});
    EXPECT_EQ(body.state, State::malformed);
    auto chunk = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", {.close_at_end = true});
    EXPECT_EQ(chunk.state, State::malformed);
}

TEST(OutboundResponseParser, StartedTellsWhetherAnyByteArrived) {
    ResponseParser p;
    p.reset(false, 100);
    EXPECT_FALSE(p.started());
    p.feed("H", 1);
    EXPECT_TRUE(p.started());
}

TEST(OutboundResponseParser, BodiesOverTheLimitAreTooLarge) {
    Options small{.max_body = 4, .close_at_end = true};
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", small).state, State::too_large);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhell", small).state, State::done);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", small).state,
              State::too_large);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\nhello", small).state, State::too_large);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\nhell", small).state, State::done);
}

TEST(OutboundResponseParser, OversizedHeadIsMalformed) {
    std::string bytes = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(ResponseParser::kMaxHead, 'a') + "\r\n\r\n";
    ResponseParser p;
    p.reset(false, 100);
    p.feed(bytes.data(), bytes.size());
    EXPECT_EQ(p.state(), State::malformed);
}

TEST(OutboundResponseParser, ResetStartsTheNextResponseOnTheSameConnection) {
    ResponseParser p;
    std::string_view first = "HTTP/1.1 200 OK\r\nX-First: 1\r\nContent-Length: 1\r\n\r\na";
    std::string_view second = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nbb";
    p.reset(false, 100);
    EXPECT_EQ(p.feed(first.data(), first.size()), first.size());
    EXPECT_EQ(p.body(), "a");
    p.reset(false, 100);
    EXPECT_EQ(p.feed(second.data(), second.size()), second.size());
    EXPECT_EQ(p.state(), State::done);
    EXPECT_EQ(p.status(), 404);
    ASSERT_EQ(p.fields().size(), 1u);
    EXPECT_EQ(p.fields()[0].name, "Content-Length");
    EXPECT_EQ(p.body(), "bb");
}

}  // namespace
}  // namespace kerberus::outbound
