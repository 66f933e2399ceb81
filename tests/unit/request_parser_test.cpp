#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kerberus::http {

// Lets gtest print a Status by name (found by argument-dependent lookup).
static void PrintTo(RequestParser::Status status, std::ostream* os) {
    switch (status) {
        case RequestParser::Status::complete: *os << "complete"; return;
        case RequestParser::Status::incomplete: *os << "incomplete"; return;
        case RequestParser::Status::failed: *os << "failed"; return;
        case RequestParser::Status::body_follows: *os << "body_follows"; return;
    }
    *os << "Status(" << static_cast<int>(status) << ")";
}

namespace {

using namespace std::string_literals;
using Status = RequestParser::Status;
using Limits = RequestParser::Limits;
using Fields = std::vector<std::pair<std::string, std::string>>;

// Small on purpose, so the limit cases stay short.
constexpr Limits kLimits{256, 16};

// The input with CR, LF, tabs and other control or non-ASCII bytes spelled
// out, for traces and failure messages.
std::string visible(std::string_view s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c >= 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += ch;
        }
    }
    return out;
}

// A complete request copied out of the parser's views, so it outlives them
// and compares as a whole.
struct Request {
    std::string method;
    std::string target;
    std::string head;
    std::string body;
    Fields fields;
    std::size_t size = 0;
    bool http10 = false;
    bool keep_alive = true;

    bool operator==(const Request&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Request& r) {
    os << "{method=" << r.method << " target=" << visible(r.target) << " size=" << r.size << " http10=" << r.http10
       << " keep_alive=" << r.keep_alive << " fields=[";
    for (const auto& [name, value] : r.fields) {
        os << visible(name) << ": " << visible(value) << "; ";
    }
    return os << "] body=" << visible(r.body) << " head=" << visible(r.head) << "}";
}

Request copy(const ParsedRequest& r) {
    Request out{
        std::string(r.method), std::string(r.target), std::string(r.head), std::string(r.body), {}, r.size, r.http10,
        r.keep_alive};
    for (const HeaderField& f : r.fields) {
        out.fields.emplace_back(f.name, f.value);
    }
    return out;
}

// What the last parse() call answered.
struct Outcome {
    Status status = Status::incomplete;
    Request request;            // when complete
    int error_status = 0;       // when failed
    std::string error_message;  // when failed
    std::size_t fed = 0;        // bytes of input given to that call
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    switch (o.status) {
        case Status::complete: return os << "complete " << o.request;
        case Status::incomplete: return os << "incomplete after " << o.fed << " bytes";
        case Status::failed:
            return os << "failed " << o.error_status << " (" << o.error_message << ") after " << o.fed << " bytes";
        case Status::body_follows: return os << "body follows its head " << o.request;
    }
    return os;
}

Outcome outcome(const RequestParser& parser, Status status, const ParsedRequest& r, std::size_t fed) {
    Outcome o;
    o.status = status;
    o.fed = fed;
    if (status == Status::complete) {
        o.request = copy(r);
    } else if (status == Status::failed) {
        o.error_status = parser.error_status();
        o.error_message = std::string(parser.error_message());
    }
    return o;
}

// One read holding the whole input, fresh parser.
Outcome parse_whole(std::string_view input, Limits limits = kLimits) {
    RequestParser parser(limits);
    ParsedRequest r;
    const Status status = parser.parse(input, r);
    return outcome(parser, status, r, input.size());
}

// One byte more per call on a growing string, until the parser answers
// something other than incomplete (or the input runs out).
Outcome feed_bytewise(std::string_view input, Limits limits = kLimits) {
    RequestParser parser(limits);
    ParsedRequest r;
    std::string received;
    Status status = Status::incomplete;
    for (const char c : input) {
        received.push_back(c);
        status = parser.parse(received, r);
        if (status != Status::incomplete) {
            break;
        }
    }
    return outcome(parser, status, r, received.size());
}

// The request in `input`, which must complete in one read.
Request parsed(std::string_view input, Limits limits = kLimits) {
    const Outcome o = parse_whole(input, limits);
    EXPECT_EQ(o.status, Status::complete) << visible(input) << "\n -> " << o;
    return o.request;
}

// Every request in `input`, read as a connection would: after each one,
// reset() and go on from the first byte it did not take.
std::vector<Request> parse_all(std::string_view input, Limits limits = kLimits) {
    RequestParser parser(limits);
    ParsedRequest r;
    std::vector<Request> out;
    while (!input.empty()) {
        const Status status = parser.parse(input, r);
        if (status != Status::complete || r.size == 0 || r.size > input.size()) {
            ADD_FAILURE() << "request " << out.size() << " of " << visible(input) << "\n -> "
                          << outcome(parser, status, r, input.size());
            break;
        }
        out.push_back(copy(r));
        input.remove_prefix(r.size);
        parser.reset();
    }
    return out;
}

// Feeds one complete request in two reads, for every split point: the first
// read (each proper prefix, the empty one included) must be incomplete, the
// second (the whole input, the first read's bytes still in front) must give
// what one read gives. Then a byte at a time: complete exactly at the end.
void expect_split_independent(std::string_view input, Limits limits = kLimits) {
    SCOPED_TRACE(visible(input));
    const Outcome whole = parse_whole(input, limits);
    ASSERT_EQ(whole.status, Status::complete) << whole;
    ASSERT_EQ(whole.request.size, input.size());

    for (std::size_t k = 0; k < input.size(); ++k) {
        RequestParser parser(limits);
        ParsedRequest r;
        std::string received(input.substr(0, k));
        const Status first = parser.parse(received, r);
        ASSERT_EQ(first, Status::incomplete)
            << "first read: " << visible(received) << "\n -> " << outcome(parser, first, r, k);
        received.append(input.substr(k));
        const Status second = parser.parse(received, r);
        ASSERT_EQ(second, Status::complete)
            << "split after " << k << " bytes\n -> " << outcome(parser, second, r, received.size());
        ASSERT_EQ(copy(r), whole.request) << "split after " << k << " bytes";
    }

    const Outcome bytewise = feed_bytewise(input, limits);
    EXPECT_EQ(bytewise.status, Status::complete) << bytewise;
    EXPECT_EQ(bytewise.fed, input.size());
    EXPECT_EQ(bytewise.request, whole.request);
}

// An input the parser must refuse, and the status it must answer.
struct Refusal {
    const char* what;
    std::string input;
    int status;
};

// Each input must fail with its status, with a reason, whether it arrives in
// one read or a byte at a time.
void expect_refused(const std::vector<Refusal>& cases, Limits limits = kLimits) {
    for (const Refusal& c : cases) {
        SCOPED_TRACE(std::string(c.what) + ": " + visible(c.input));
        const Outcome whole = parse_whole(c.input, limits);
        EXPECT_EQ(whole.status, Status::failed) << whole;
        EXPECT_EQ(whole.error_status, c.status) << whole;
        if (whole.status == Status::failed) {
            EXPECT_FALSE(whole.error_message.empty());
        }
        const Outcome bytewise = feed_bytewise(c.input, limits);
        EXPECT_EQ(bytewise.status, Status::failed) << "byte at a time: " << bytewise;
        EXPECT_EQ(bytewise.error_status, c.status) << "byte at a time: " << bytewise;
    }
}

// A request line followed by a Host field and the blank line.
std::string with_line(std::string_view request_line) {
    return std::string(request_line) + "\r\nHost: a\r\n\r\n";
}

// A GET with Host, the given field lines (each with its CRLF), the blank line.
std::string get_with(std::string_view lines) {
    return "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(lines) + "\r\n";
}

// A POST with the given Content-Length value and a five-byte body.
std::string post_with_length(std::string_view value) {
    return "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::string(value) + "\r\n\r\nhello";
}

// A chunked POST head followed by the given chunked body.
std::string chunked_post(std::string_view chunks) {
    return "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(chunks);
}

// ---------------------------------------------------------------- framing

TEST(RequestParser, SimpleGet) {
    const std::string input = "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Mixed-CASE: v\r\n\r\n";
    RequestParser parser(kLimits);
    ParsedRequest r;
    ASSERT_EQ(parser.parse(input, r), Status::complete);

    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/a?b=1");
    EXPECT_FALSE(r.http10);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.size, input.size());
    EXPECT_EQ(r.head, input);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(copy(r).fields, (Fields{{"Host", "example.com"}, {"Accept", "*/*"}, {"X-Mixed-CASE", "v"}}));

    // Views into the input, method, target and fields inside the head.
    EXPECT_EQ(r.head.data(), input.data());
    EXPECT_EQ(r.method.data(), input.data());
    EXPECT_EQ(r.target.data(), input.data() + 4);
    for (const HeaderField& f : r.fields) {
        EXPECT_GE(f.name.data(), r.head.data());
        EXPECT_LE(f.value.data() + f.value.size(), r.head.data() + r.head.size());
    }
}

TEST(RequestParser, FieldValuesTrimmedRepeatsKept) {
    const Request r =
        parsed(get_with("Accept: a\r\n"
                        "X-Pad: \t  two  words \t \r\n"
                        "accept:b\r\n"
                        "X-Tab: a\tb\r\n"));
    EXPECT_EQ(r.fields,
              (Fields{{"Host", "a"}, {"Accept", "a"}, {"X-Pad", "two  words"}, {"accept", "b"}, {"X-Tab", "a\tb"}}));
}

TEST(RequestParser, EmptyFieldValueAccepted) {
    const Request r = parsed(get_with("X-Empty:\r\nX-Blank: \t \r\n"));
    EXPECT_EQ(r.fields, (Fields{{"Host", "a"}, {"X-Empty", ""}, {"X-Blank", ""}}));
}

TEST(RequestParser, ObsTextInValueAccepted) {
    const Request r = parsed(get_with("X-Name: caf\xc3\xa9 \xff\r\n"));
    ASSERT_EQ(r.fields.size(), 2u);
    EXPECT_EQ(r.fields[1].second, "caf\xc3\xa9 \xff");
}

TEST(RequestParser, LeadingBlankLinesSkippedAndCounted) {
    const std::string request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    for (const std::string lead : {"\r\n", "\n", "\r\n\n\r\n"}) {
        SCOPED_TRACE(visible(lead));
        const Request r = parsed(lead + request);
        EXPECT_EQ(r.method, "GET");
        EXPECT_EQ(r.size, lead.size() + request.size());
        EXPECT_EQ(r.head, request);
    }
}

// Where a read ends must not change what is parsed: a CR at the end of the
// input while skipping blank lines may be half of one.
TEST(RequestParser, LeadingBlankLinesSplitAnywhere) {
    for (const std::string lead : {"\r\n\r\n", "\n\n\n\r\n", "\r\n\n\r\n\n"}) {
        expect_split_independent(lead + "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    }
}

TEST(RequestParser, TooManyBlankLinesRefused) {
    std::string lines;
    while (lines.size() <= kLimits.max_head) lines += "\r\n";
    expect_refused({{"blank lines past max_head", lines + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400}});
}

TEST(RequestParser, BareLfLineEndingsAccepted) {
    const std::string input = "GET / HTTP/1.1\nHost: a\nX: y\n\n";
    const Request r = parsed(input);
    EXPECT_EQ(r.target, "/");
    EXPECT_EQ(r.fields, (Fields{{"Host", "a"}, {"X", "y"}}));
    EXPECT_EQ(r.size, input.size());
    EXPECT_EQ(r.head, input);

    const std::string mixed = "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n";
    const Request m = parsed(mixed);
    EXPECT_EQ(m.fields, (Fields{{"Host", "a"}, {"X", "y"}}));
    EXPECT_EQ(m.size, mixed.size());
}

TEST(RequestParser, Pipelined) {
    const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string second = "GET /two HTTP/1.1\r\nHost: b\r\nX: 1\r\n\r\n";
    RequestParser parser(kLimits);
    ParsedRequest r;
    const std::string input = first + second;
    ASSERT_EQ(parser.parse(input, r), Status::complete);
    EXPECT_EQ(r.target, "/one");
    EXPECT_EQ(r.size, first.size());
    EXPECT_EQ(r.head, first);

    parser.reset();
    const std::string_view rest = std::string_view(input).substr(r.size);
    ASSERT_EQ(parser.parse(rest, r), Status::complete);
    EXPECT_EQ(r.target, "/two");
    EXPECT_EQ(r.size, second.size());
    EXPECT_EQ(copy(r).fields, (Fields{{"Host", "b"}, {"X", "1"}}));
}

TEST(RequestParser, PipelinedAfterBodies) {
    const std::vector<Request> all = parse_all(
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2\r\nde\r\n0\r\n\r\n"
        "\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /d HTTP/1.0\r\n\r\n");
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].target, "/a");
    EXPECT_EQ(all[0].body, "abc");
    EXPECT_EQ(all[1].target, "/b");
    EXPECT_EQ(all[1].body, "de");
    EXPECT_EQ(all[2].target, "/c");
    EXPECT_TRUE(all[2].body.empty());
    EXPECT_EQ(all[3].target, "/d");
    EXPECT_TRUE(all[3].http10);
}

TEST(RequestParser, LaterPipelinedRequestsDoNotCountTowardHeadLimit) {
    std::string input;
    for (int i = 0; i < 20; ++i) {
        input += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
    }
    ASSERT_GT(input.size(), 2 * kLimits.max_head);
    const std::vector<Request> all = parse_all(input);
    ASSERT_EQ(all.size(), 20u);
    EXPECT_EQ(all[19].target, "/19");
}

TEST(RequestParser, EverySplitPoint) {
    expect_split_independent("GET /a?b=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
    expect_split_independent("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
    expect_split_independent(chunked_post("5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"));
    expect_split_independent("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_split_independent("GET / HTTP/1.1\nHost: a\n\n");
    expect_split_independent("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi");
}

// ------------------------------------------------------ version, connection

TEST(RequestParser, Http10) {
    const Request plain = parsed("GET / HTTP/1.0\r\n\r\n");  // no Host needed
    EXPECT_TRUE(plain.http10);
    EXPECT_FALSE(plain.keep_alive);
    EXPECT_TRUE(plain.fields.empty());

    EXPECT_TRUE(parsed("GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    EXPECT_TRUE(parsed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    EXPECT_TRUE(parsed("GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n").keep_alive);
    EXPECT_FALSE(parsed("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
    EXPECT_FALSE(parsed("GET / HTTP/1.0\r\nConnection: foo\r\n\r\n").keep_alive);
}

TEST(RequestParser, Http11ConnectionClose) {
    struct Case {
        const char* lines;
        bool keep_alive;
    };
    const Case cases[] = {
        {"", true},
        {"Connection: close\r\n", false},
        {"Connection: CLOSE\r\n", false},
        {"Connection: foo, Close\r\n", false},
        {"Connection: foo,close\r\n", false},
        {"Connection: close, foo\r\n", false},
        {"Connection: foo\r\nConnection: close\r\n", false},
        {"Connection: keep-alive\r\n", true},
        {"Connection: closed\r\n", true},
        {"Connection: foo-close\r\n", true},
        {"X-Connection: close\r\n", true},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(visible(c.lines));
        const Request r = parsed(get_with(c.lines));
        EXPECT_FALSE(r.http10);
        EXPECT_EQ(r.keep_alive, c.keep_alive);
    }
}

// ---------------------------------------------------------- request line

TEST(RequestParser, KnownMethods) {
    for (const std::string method : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"}) {
        SCOPED_TRACE(method);
        EXPECT_EQ(parsed(with_line(method + " /x HTTP/1.1")).method, method);
    }
    const Request connect = parsed(with_line("CONNECT a.example:443 HTTP/1.1"));
    EXPECT_EQ(connect.method, "CONNECT");
    EXPECT_EQ(connect.target, "a.example:443");
    EXPECT_EQ(parsed(with_line("OPTIONS * HTTP/1.1")).target, "*");
}

TEST(RequestParser, RefusesUnknownMethodsAndVersions) {
    expect_refused({
        {"unknown method", with_line("BREW / HTTP/1.1"), 501},
        {"unknown method", with_line("PROPFIND / HTTP/1.1"), 501},
        {"lowercase method", with_line("get / HTTP/1.1"), 501},
        {"mixed-case method", with_line("Get / HTTP/1.1"), 501},
        {"version 2.0", with_line("GET / HTTP/2.0"), 505},
        {"version 9.9", with_line("GET / HTTP/9.9"), 505},
        {"version 0.9", with_line("GET / HTTP/0.9"), 505},
    });
}

TEST(RequestParser, RefusesMalformedRequestLine) {
    expect_refused({
        {"method with '('", with_line("GE(T / HTTP/1.1"), 400},
        {"method with '@'", with_line("G@T / HTTP/1.1"), 400},
        {"method with a control", with_line("GET\x01 / HTTP/1.1"), 400},
        {"tab separator", with_line("GET\t/ HTTP/1.1"), 400},
        {"two spaces", with_line("GET  / HTTP/1.1"), 400},
        {"empty target", with_line("GET  HTTP/1.1"), 400},
        {"trailing space", with_line("GET / HTTP/1.1 "), 400},
        {"leading space", with_line(" GET / HTTP/1.1"), 400},
        {"missing version", with_line("GET /"), 400},
        {"empty version", with_line("GET / "), 400},
        {"method only", with_line("GET"), 400},
        {"missing method", with_line("/ HTTP/1.1"), 400},
        {"space in target", with_line("GET /a b HTTP/1.1"), 400},
        {"control in target",
         with_line("GET /a\x01"
                   "b HTTP/1.1"),
         400},
        {"DEL in target", with_line("GET /a\x7f HTTP/1.1"), 400},
        {"NUL in target", with_line("GET /a\0b HTTP/1.1"s), 400},
        {"tab in target", with_line("GET /a\tb HTTP/1.1"), 400},
        {"bare CR after version", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400},
        {"bare CR in target", with_line("GET /a\rb HTTP/1.1"), 400},
        {"version with suffix", with_line("GET / HTTP/1.1x"), 400},
        {"version without dot", with_line("GET / HTTP/11"), 400},
        {"version lowercase", with_line("GET / http/1.1"), 400},
        {"version without minor", with_line("GET / HTTP/1."), 400},
        {"version not digits", with_line("GET / HTTP/a.b"), 400},
        {"version two-digit major", with_line("GET / HTTP/10.1"), 400},
        {"version extra part", with_line("GET / HTTP/1.1.1"), 400},
        {"version wrong name", with_line("GET / HTTPS/1.1"), 400},
        {"version garbage", with_line("GET / garbage"), 400},
    });
}

// ---------------------------------------------------------------- fields

TEST(RequestParser, HostRules) {
    expect_refused({
        {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
        {"two Host", get_with("Host: b\r\n"), 400},
        {"two Host, other case", get_with("host: a\r\n"), 400},
        {"HTTP/1.0 with two Host", "GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400},
    });
    EXPECT_EQ(parsed("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n").fields, (Fields{{"hOsT", "a"}}));
    EXPECT_TRUE(parsed("GET / HTTP/1.0\r\n\r\n").http10);
}

TEST(RequestParser, RefusesMalformedFieldLines) {
    expect_refused({
        {"no colon", get_with("NoColon\r\n"), 400},
        {"space before colon", get_with("X-Name : v\r\n"), 400},
        {"tab before colon", get_with("X-Name\t: v\r\n"), 400},
        {"empty name", get_with(": v\r\n"), 400},
        {"name not a token", get_with("X@Y: v\r\n"), 400},
        {"obs-fold with space", get_with("X: a\r\n folded\r\n"), 400},
        {"obs-fold with tab", get_with("X: a\r\n\tfolded\r\n"), 400},
        {"whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
        {"NUL in value", get_with("X: a\0b\r\n"s), 400},
        {"SOH in value",
         get_with("X: a\x01"
                  "b\r\n"),
         400},
        {"US in value",
         get_with("X: a\x1f"
                  "b\r\n"),
         400},
        {"DEL in value",
         get_with("X: a\x7f"
                  "b\r\n"),
         400},
        {"bare CR in value", get_with("X: a\rb\r\n"), 400},
        {"bare CR in name", get_with("X\rY: v\r\n"), 400},
        {"bare CR as the last byte of a value", get_with("X: a\r\r\n"), 400},
    });
}

// -------------------------------------------------------- Content-Length

TEST(RequestParser, ContentLengthBody) {
    const std::string head = "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
    const std::string input = head + "helloGET";
    RequestParser parser(kLimits);
    ParsedRequest r;
    ASSERT_EQ(parser.parse(input, r), Status::complete);
    EXPECT_EQ(r.body, "hello");
    EXPECT_EQ(r.body.data(), input.data() + head.size());  // a view into the input
    EXPECT_EQ(r.size, head.size() + 5);
    EXPECT_EQ(r.head, head);

    EXPECT_EQ(parsed(post_with_length("5\r\nContent-Length: 5")).body, "hello");  // identical repeat
    EXPECT_EQ(parsed(post_with_length(" \t5 ")).body, "hello");
    EXPECT_EQ(parsed(post_with_length("005")).body, "hello");
    EXPECT_EQ(parsed(post_with_length("0")).body, "");
    EXPECT_EQ(parsed(post_with_length("0")).size, post_with_length("0").size() - 5);

    const std::string full(kLimits.max_body, 'x');  // exactly max_body is fine
    EXPECT_EQ(parsed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n\r\n" + full).body, full);
}

TEST(RequestParser, RefusesBadContentLength) {
    expect_refused({
        {"not digits", post_with_length("abc"), 400},
        {"negative", post_with_length("-1"), 400},
        {"plus sign", post_with_length("+5"), 400},
        {"empty", post_with_length(""), 400},
        {"trailing garbage", post_with_length("5a"), 400},
        {"hex", post_with_length("0x5"), 400},
        {"inner space", post_with_length("1 2"), 400},
        {"differing list", post_with_length("5, 6"), 400},
        {"twenty nines", post_with_length("99999999999999999999"), 400},
        {"2^64", post_with_length("18446744073709551616"), 400},
        {"two different values", post_with_length("5\r\nContent-Length: 6"), 400},
    });
}

TEST(RequestParser, ContentLengthAboveMaxBodyRefusedWithHead) {
    // Only the head has arrived: the answer is 413 now, not a wait for the body.
    expect_refused({
        {"one over", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n", 413},
        {"far over", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000\r\n\r\n", 413},
    });
}

// ------------------------------------------------------------- chunked

TEST(RequestParser, ChunkedBody) {
    struct Case {
        const char* what;
        std::string chunks;
        std::string body;
    };
    const Case cases[] = {
        {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"},
        {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
        {"empty body", "0\r\n\r\n", ""},
        {"extensions", "5;a=b\r\nhello\r\n1;x;y=\"z\"\r\n!\r\n0;last\r\n\r\n", "hello!"},
        {"trailers", "5\r\nhello\r\n0\r\nX-T: 1\r\nY-T: 2\r\n\r\n", "hello"},
        {"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
        {"lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
        {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
        {"exactly max_body", "A\r\n0123456789\r\n6\r\nabcdef\r\n0\r\n\r\n", "0123456789abcdef"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        const std::string input = chunked_post(c.chunks);
        const Request r = parsed(input + "GET / HTTP/1.1\r\n");  // what follows is not taken
        EXPECT_EQ(r.body, c.body);
        EXPECT_EQ(r.size, input.size());
        EXPECT_EQ(r.head, chunked_post(""));
    }
}

TEST(RequestParser, ChunkExtensionsFollowTheGrammar) {
    for (const std::string line : {"5;a", "5;a=b", "5 ;a", "5\t; a = b", "5;a=\"q s\"", "5;a=\"\\\"\";b", "5;a;b=c;d"}) {
        SCOPED_TRACE(visible(line));
        EXPECT_EQ(parsed(chunked_post(line + "\r\nhello\r\n0\r\n\r\n")).body, "hello");
    }
    expect_refused({
        {"semicolon alone", chunked_post("5;\r\nhello\r\n0\r\n\r\n"), 400},
        {"value without name", chunked_post("5;=b\r\nhello\r\n0\r\n\r\n"), 400},
        {"text after the size", chunked_post("5 x\r\nhello\r\n0\r\n\r\n"), 400},
        {"trailing space", chunked_post("5 \r\nhello\r\n0\r\n\r\n"), 400},
        {"trailing space after a name", chunked_post("5;a \r\nhello\r\n0\r\n\r\n"), 400},
        {"trailing space after a value", chunked_post("5;a=b \r\nhello\r\n0\r\n\r\n"), 400},
        {"unterminated quote", chunked_post("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400},
        {"control byte", chunked_post("5;a=\x01\r\nhello\r\n0\r\n\r\n"), 400},
    });
}

// RFC 9112 2.2 lets a recipient take a bare LF only in the start line and
// header fields. A bare LF anywhere in the chunked framing is refused: a
// front proxy that does not take it would see a different body.
TEST(RequestParser, ChunkedFramingNeedsCrlf) {
    expect_refused({
        {"size line", chunked_post("5\nhello\r\n0\r\n\r\n"), 400},
        {"size line with extension", chunked_post("44;\n" + std::string(68, 'x') + "\r\n0\r\n\r\n"), 400},
        {"after data", chunked_post("5\r\nhello\n0\r\n\r\n"), 400},
        {"last chunk", chunked_post("0\n\r\n"), 400},
        {"last chunk with extension", chunked_post("0;x\n\r\n\r\n"), 400},
        {"trailer line", chunked_post("0\r\nX-T: 1\n\r\n"), 400},
        {"final blank line", chunked_post("0\r\n\n"), 400},
        {"CR alone after data", chunked_post("5\r\nhello\r0\r\n\r\n"), 400},
    });
}

// The smuggling attempt in full: a parser that took the bare LF would see a
// 68-byte chunk and then a second request; a front proxy that does not sees
// one request whose body holds it. Refused before any request is taken.
TEST(RequestParser, BareLfChunkLineCannotSmuggleARequest) {
    const std::string input = chunked_post("44;\n" + std::string(68, 'x') +
                                           "\r\n0\r\n\r\nGET /api/echo/smuggled HTTP/1.1\r\nHost: a\r\n"
                                           "Content-Length: 7\r\n\r\n\r\n0\r\n\r\n");
    const Outcome o = parse_whole(input, Limits{1024, 1024});
    EXPECT_EQ(o.status, Status::failed) << o;
    EXPECT_EQ(o.error_status, 400) << o;
}

TEST(RequestParser, TrailersAreCheckedLikeFields) {
    expect_refused({
        {"no colon", chunked_post("0\r\nnot a field\r\n\r\n"), 400},
        {"folded", chunked_post("0\r\nX-T: 1\r\n  more\r\n\r\n"), 400},
        {"bad name", chunked_post("0\r\nX T: 1\r\n\r\n"), 400},
        {"control in value", chunked_post("0\r\nX-T: a\x01b\r\n\r\n"), 400},
    });
}

TEST(RequestParser, ChunkedCodingNameCaseInsensitive) {
    EXPECT_EQ(parsed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n").body,
              "ok");
}

TEST(RequestParser, RefusesBadChunks) {
    expect_refused({
        {"size not hex", chunked_post("g\r\nhello\r\n0\r\n\r\n"), 400},
        {"size with 0x", chunked_post("0x5\r\nhello\r\n0\r\n\r\n"), 400},
        {"negative size", chunked_post("-5\r\nhello\r\n0\r\n\r\n"), 400},
        {"empty size", chunked_post("\r\nhello\r\n0\r\n\r\n"), 400},
        {"seventeen hex digits", chunked_post("10000000000000000\r\nhello\r\n0\r\n\r\n"), 400},
        {"data longer than size", chunked_post("5\r\nhelloX\r\n0\r\n\r\n"), 400},
        {"no CRLF after data", chunked_post("5\r\nhello0\r\n\r\n"), 400},
        {"decoded body over max_body", chunked_post("A\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n"), 413},
        {"chunk over max_body", chunked_post("11\r\n0123456789abcdefg\r\n0\r\n\r\n"), 413},
        {"huge chunk", chunked_post("FFFFFFFFFFFFFFFF\r\n0123456789abcdefg"), 413},
        {"trailer over max_head", chunked_post("0\r\nX-T: " + std::string(300, 'a') + "\r\n\r\n"), 431},
    });
}

TEST(RequestParser, RefusesTransferEncodings) {
    const std::string body = "0\r\n\r\n";
    expect_refused({
        {"gzip alone", get_with("Transfer-Encoding: gzip\r\n") + body, 501},
        {"identity", get_with("Transfer-Encoding: identity\r\n") + body, 501},
        {"gzip, chunked", get_with("Transfer-Encoding: gzip, chunked\r\n") + body, 501},
        // RFC 9112 6.3: chunked not last leaves the body's end unknowable.
        {"chunked, gzip", get_with("Transfer-Encoding: chunked, gzip\r\n") + body, 400},
        {"chunked field, then gzip field", get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n") + body,
         400},
        // RFC 9112 6.1: chunked is applied at most once; a malformed
        // request, not a coding this server lacks.
        {"chunked twice in one field", get_with("Transfer-Encoding: chunked, chunked\r\n") + body, 400},
        {"chunked in two fields", get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + body,
         400},
        {"empty list", get_with("Transfer-Encoding: ,\r\n") + body, 400},
        {"gzip field, then chunked field", get_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n") + body,
         501},
        {"with Content-Length", get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + body, 400},
        {"Content-Length after", get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + body, 400},
        {"in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 400},
    });
}

// ---------------------------------------------------------- head limit

TEST(RequestParser, HeadLimit) {
    // Well under the limit: fine.
    EXPECT_EQ(parsed(get_with("X: " + std::string(150, 'a') + "\r\n")).fields.size(), 2u);

    expect_refused({
        {"long field", get_with("X: " + std::string(300, 'a') + "\r\n"), 431},
        {"many fields", get_with([] {
             std::string lines;
             for (int i = 0; i < 40; ++i) {
                 lines += "X-" + std::to_string(i) + ": v\r\n";
             }
             return lines;
         }()),
         431},
        {"long target", with_line("GET /" + std::string(300, 'a') + " HTTP/1.1"), 431},
    });
}

TEST(RequestParser, HeadLimitWhenBlankLineNeverArrives) {
    const std::string endless_line = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(600, 'a');
    std::string endless_lines = "GET / HTTP/1.1\r\nHost: a\r\n";
    while (endless_lines.size() < 600) {
        endless_lines += "X: v\r\n";
    }
    for (const std::string& input : {endless_line, endless_lines}) {
        SCOPED_TRACE(visible(input.substr(0, 40)));
        const Outcome o = feed_bytewise(input);
        EXPECT_EQ(o.status, Status::failed) << o;
        EXPECT_EQ(o.error_status, 431) << o;
        EXPECT_LE(o.fed, kLimits.max_head + 4) << "fails soon after the input passes max_head";

        const Outcome whole = parse_whole(input);
        EXPECT_EQ(whole.status, Status::failed) << whole;
        EXPECT_EQ(whole.error_status, 431) << whole;
    }
}

// -------------------------------------------------------- 100-continue

TEST(RequestParser, ContinueOfferedOnceWhileBodyOutstanding) {
    const std::string head = "POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    RequestParser parser(kLimits);
    ParsedRequest r;
    std::string received = head.substr(0, 20);
    ASSERT_EQ(parser.parse(received, r), Status::incomplete);
    EXPECT_FALSE(parser.take_continue()) << "the head has not arrived yet";

    received = head;
    ASSERT_EQ(parser.parse(received, r), Status::incomplete);
    EXPECT_TRUE(parser.take_continue());
    EXPECT_FALSE(parser.take_continue());

    received += "he";
    ASSERT_EQ(parser.parse(received, r), Status::incomplete);
    EXPECT_FALSE(parser.take_continue()) << "once per request";

    received += "llo";
    ASSERT_EQ(parser.parse(received, r), Status::complete);
    EXPECT_EQ(r.body, "hello");
    EXPECT_FALSE(parser.take_continue());
}

TEST(RequestParser, ContinueWithPartOfTheBodyAlreadyThere) {
    RequestParser parser(kLimits);
    ParsedRequest r;
    ASSERT_EQ(parser.parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\nhe", r),
              Status::incomplete);
    EXPECT_TRUE(parser.take_continue());
}

TEST(RequestParser, ContinueForChunkedBody) {
    RequestParser parser(kLimits);
    ParsedRequest r;
    const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n";
    ASSERT_EQ(parser.parse(head, r), Status::incomplete);
    EXPECT_TRUE(parser.take_continue());
    ASSERT_EQ(parser.parse(head + "2\r\nok\r\n0\r\n\r\n", r), Status::complete);
    EXPECT_EQ(r.body, "ok");
    EXPECT_FALSE(parser.take_continue());
}

TEST(RequestParser, NoContinueWhenNotAskedOrNotNeeded) {
    struct Case {
        const char* what;
        std::string input;
        Status status;
    };
    const Case cases[] = {
        {"no Expect", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", Status::incomplete},
        {"body arrived with the head",
         "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", Status::complete},
        {"no body", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
         Status::complete},
        {"GET without body", "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", Status::complete},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        RequestParser parser(kLimits);
        ParsedRequest r;
        EXPECT_EQ(parser.parse(c.input, r), c.status);
        EXPECT_FALSE(parser.take_continue());
    }
}

// RFC 9110 10.1.1: a server MUST ignore a 100-continue expectation in an
// HTTP/1.0 request.
TEST(RequestParser, ContinueIgnoredForHttp10) {
    RequestParser parser(kLimits);
    ParsedRequest r;
    ASSERT_EQ(parser.parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", r),
              Status::incomplete);
    EXPECT_FALSE(parser.take_continue());
}

// ---------------------------------------------------------------- reset

TEST(RequestParser, ReusableAfterReset) {
    RequestParser parser(kLimits);
    ParsedRequest r;

    const std::string chunked = chunked_post("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
    ASSERT_EQ(parser.parse(chunked, r), Status::complete);
    EXPECT_EQ(r.body, "hello");

    parser.reset();
    const std::string get = "GET /next HTTP/1.0\r\nX: y\r\n\r\n";
    ASSERT_EQ(parser.parse(get, r), Status::complete);
    EXPECT_EQ(copy(r), (Request{"GET", "/next", get, "", {{"X", "y"}}, get.size(), true, false}));

    parser.reset();
    ASSERT_EQ(parser.parse(with_line("BREW / HTTP/1.1"), r), Status::failed);
    EXPECT_EQ(parser.error_status(), 501);

    parser.reset();
    const std::string post = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok";
    ASSERT_EQ(parser.parse(post, r), Status::complete);
    EXPECT_EQ(copy(r), (Request{"POST",
                                "/p",
                                post.substr(0, post.size() - 2),
                                "ok",
                                {{"Host", "h"}, {"Content-Length", "2"}},
                                post.size(),
                                false,
                                true}));

    parser.reset();
    ASSERT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(300, 'a'), r), Status::failed);
    EXPECT_EQ(parser.error_status(), 431);

    parser.reset();
    EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\n", r), Status::incomplete);
    EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", r), Status::complete);
    EXPECT_EQ(r.target, "/");
}

// After a failure the method and target name only what this request sent:
// the previous request's views point into input that may be gone.
TEST(RequestParser, FailureNeverNamesAnEarlierRequest) {
    RequestParser parser(kLimits);
    ParsedRequest r;
    auto first = std::make_unique<std::string>("GET /api/echo/" + std::string(100, 'A') + " HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(parser.parse(*first, r), Status::complete);
    first.reset();  // the read buffer is gone, as on a connection
    parser.reset();

    const std::string input = "\r\nGET /next HTTP/1.1\r\nX: " + std::string(300, 'b');
    ASSERT_EQ(parser.parse(input, r), Status::failed);
    EXPECT_EQ(parser.error_status(), 431);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/next");
    EXPECT_GE(r.target.data(), input.data());
    EXPECT_LE(r.target.data() + r.target.size(), input.data() + input.size());

    // The request line itself never ended: nothing to name.
    parser.reset();
    ASSERT_EQ(parser.parse("GET /" + std::string(300, 'c'), r), Status::failed);
    EXPECT_EQ(parser.error_status(), 431);
    EXPECT_TRUE(r.method.empty());
    EXPECT_TRUE(r.target.empty());

    // Blank lines only.
    parser.reset();
    std::string lines;
    while (lines.size() <= kLimits.max_head) lines += "\n";
    ASSERT_EQ(parser.parse(lines, r), Status::failed);
    EXPECT_EQ(parser.error_status(), 400);
    EXPECT_TRUE(r.method.empty());
    EXPECT_TRUE(r.target.empty());
    EXPECT_TRUE(r.fields.empty());
}

TEST(RequestParser, ResetRearmsContinue) {
    const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
    RequestParser parser(kLimits);
    ParsedRequest r;
    ASSERT_EQ(parser.parse(head, r), Status::incomplete);
    EXPECT_TRUE(parser.take_continue());
    ASSERT_EQ(parser.parse(head + "x", r), Status::complete);

    parser.reset();
    ASSERT_EQ(parser.parse(head, r), Status::incomplete);
    EXPECT_TRUE(parser.take_continue()) << "a new request asks again";
    ASSERT_EQ(parser.parse(head + "x", r), Status::complete);

    parser.reset();
    ASSERT_EQ(parser.parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", r), Status::incomplete);
    EXPECT_FALSE(parser.take_continue()) << "nothing carried over from the last request";
}

}  // namespace
}  // namespace kerberus::http
