// HTTP/1.1 request framing (RFC 9112) over the bytes a connection received.
//
// kerberus parses requests itself: Pistache 0.0.5's parser made a heap
// object and a lowercase hash per header and reallocated its buffer per
// request (about three quarters of a request's cost), collapsed repeated
// header names, and could not say where one request ended and the next began.
// This one works in place: a complete request is a set of views into the
// input, and nothing is allocated once a connection's vectors are warm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kerberus::http {

struct HeaderField {
    std::string_view name;   // as sent (case kept)
    std::string_view value;  // without surrounding whitespace
};

// One complete request. Views point into the input given to parse() or,
// for a chunked body, into the parser; valid until the next parse() or reset().
struct ParsedRequest {
    // Method and target are also set after a failure that came later in
    // the head, and after a 431 whose request line arrived whole; empty
    // otherwise. They never name an earlier request.
    std::string_view method;  // a known method, as sent: "GET"
    std::string_view target;  // the request-target as sent: "/api/x?a=1"
    std::string_view head;    // request line through the blank line; method, target and fields point into it
    std::string_view body;    // de-chunked when sent chunked
    std::vector<HeaderField> fields;  // in order, repeats kept
    std::size_t size = 0;             // bytes of input this request took, leading blank lines included
    int request_id_field = -1;        // index in `fields` of the first X-Request-Id, -1 when none
    bool http10 = false;
    bool keep_alive = true;  // what HTTP/1.x asks for the connection after this request
};

// A chunked body's framing (RFC 9112 7.1) decoded as its bytes arrive:
// the parser's for a body it collects, and the connection's for a body
// streamed to a plugin, so both read the same bytes the same way.
class ChunkedDecoder {
public:
    enum class Result { done, more, failed };
    // Receives each piece of chunk data, a view into the input; returns
    // false to stop after it (decode() then returns `more`).
    using Sink = bool (*)(void* context, std::string_view piece);

    // `max_body`: de-chunked bytes allowed (413 past it); `max_trailers`:
    // bytes of trailer lines allowed (431 past it).
    void reset(uint64_t max_body, std::size_t max_trailers);

    // Decodes input[pos..]: hands chunk data to `sink` and moves `pos` past
    // what it consumed. A line that has not arrived whole is left at `pos`;
    // the next call must see it again, extended.
    Result decode(std::string_view input, std::size_t& pos, Sink sink, void* context);

    // After `failed`: the status to answer (400, 413, 431) and why.
    int error_status() const { return error_status_; }
    const std::string& error_message() const { return error_message_; }
    // De-chunked bytes so far.
    uint64_t decoded_bytes() const { return decoded_; }

private:
    enum class Chunk : uint8_t { size_line, data, data_end, trailers, done };
    enum class Line : uint8_t { complete, incomplete, too_long, bad_ending };

    Result fail(int status, std::string message);
    Line next_crlf_line(std::string_view input, std::size_t& pos, std::size_t max_line, std::string_view& line);

    uint64_t max_body_ = 0;
    std::size_t max_trailers_ = 0;
    Chunk chunk_ = Chunk::size_line;
    uint64_t chunk_left_ = 0;
    uint64_t decoded_ = 0;
    std::size_t trailer_bytes_ = 0;
    int error_status_ = 0;
    std::string error_message_;
};

class RequestParser {
public:
    struct Limits {
        std::size_t max_head;  // request line and header lines (trailers too); more is 431
        std::size_t max_body;  // body after de-chunking; more is 413
        std::size_t max_fields = 100;  // header fields (trailers apart); more is 431
    };
    // body_follows: see ask_before_body().
    enum class Status { complete, incomplete, failed, body_follows };
    // How the body of the request whose head was parsed is framed.
    struct BodyFraming {
        bool chunked = false;
        uint64_t content_length = 0;  // when not chunked
        // The request asks for another protocol (Upgrade, RFC 9110 7.8)
        // and has no body of its own: if it is answered 101, what follows
        // its head is the new protocol's, until the connection ends.
        bool upgrade = false;
    };

    explicit RequestParser(Limits limits) : limits_(limits) {}

    // Off by default. On: once per request whose body has not arrived
    // whole with its head (or is chunked, or longer than max_body), parse()
    // stops at the head and returns body_follows, with `out` as for a
    // complete request but without a body, and the caller chooses:
    // collect_body() and parse() again as before, or stream_body() — the
    // request is then complete at its head (out.size covers the head only)
    // and the caller reads the body itself, framed as body_framing() says.
    void ask_before_body(bool on) { ask_before_body_ = on; }
    void collect_body() { body_choice_ = BodyChoice::collect; }
    void stream_body() { body_choice_ = BodyChoice::stream; }
    BodyFraming body_framing() const { return {chunked_, content_length_, upgrade()}; }

    // `input` starts at the first byte of a request and holds everything
    // received since; between calls it may only grow at the end (same
    // start). Work already done on it is not repeated.
    Status parse(std::string_view input, ParsedRequest& out);

    // After `failed`: the status to answer (400, 413, 431, 501, 505) and why.
    int error_status() const { return error_status_; }
    std::string_view error_message() const { return error_message_; }

    // True once per request, when its head asked for "100-continue" and the
    // body has not fully arrived: the caller sends the interim response.
    bool take_continue();

    // Forgets the request just completed (or failed): ready for the next.
    void reset();

private:
    enum class BodyChoice : uint8_t { undecided, collect, stream };

    Status fail(int status, std::string_view message);
    Status find_head_end(std::string_view input, ParsedRequest& out);
    Status fail_head_too_large(std::string_view input, ParsedRequest& out);
    Status parse_head(std::string_view head, ParsedRequest& out, bool first_time);
    Status parse_field(std::string_view line, ParsedRequest& out, bool first_time);
    // True when the body is not all in `input` yet (or is chunked, or too
    // large to collect): the caller may want to stream it.
    bool body_may_stream(std::string_view input) const;

    Limits limits_;
    int error_status_ = 0;
    std::string error_message_;

    // Where the request starts (after blank lines) and where its head ends.
    bool before_request_line_ = true;  // still skipping blank lines
    std::size_t start_ = 0;
    std::size_t scanned_ = 0;  // head: bytes already searched for its end
    std::size_t head_end_ = 0;  // 0 until the blank line was seen

    // Framing read from the head.
    uint64_t content_length_ = 0;
    bool has_content_length_ = false;
    bool chunked_ = false;
    bool expect_continue_ = false;
    bool continue_taken_ = false;
    int hosts_ = 0;
    bool close_ = false;
    bool keep_alive_token_ = false;
    bool upgrade_token_ = false;   // Connection lists "upgrade"
    bool has_upgrade_ = false;     // an Upgrade header
    bool upgrade() const { return upgrade_token_ && has_upgrade_ && !chunked_ && content_length_ == 0; }

    bool ask_before_body_ = false;
    BodyChoice body_choice_ = BodyChoice::undecided;

    // Chunked body: position in the input, the decoder, the body collected.
    std::size_t chunk_pos_ = 0;
    ChunkedDecoder chunks_;
    std::string decoded_;
};

}  // namespace kerberus::http
