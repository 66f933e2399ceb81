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

class RequestParser {
public:
    struct Limits {
        std::size_t max_head;  // request line and header lines (trailers too); more is 431
        std::size_t max_body;  // body after de-chunking; more is 413
    };
    enum class Status { complete, incomplete, failed };

    explicit RequestParser(Limits limits) : limits_(limits) {}

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
    enum class Chunk : uint8_t { size_line, data, data_end, trailers, done };
    enum class Line : uint8_t { complete, incomplete, too_long, bad_ending };

    Status fail(int status, std::string_view message);
    Status find_head_end(std::string_view input, ParsedRequest& out);
    Status fail_head_too_large(std::string_view input, ParsedRequest& out);
    Status parse_head(std::string_view head, ParsedRequest& out, bool first_time);
    Status parse_field(std::string_view line, ParsedRequest& out, bool first_time);
    Status read_chunks(std::string_view input);
    // The CRLF-ended line at chunk_pos_ (without its CRLF), then past it.
    Line next_crlf_line(std::string_view input, std::size_t max_line, std::string_view& line);

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

    // Chunked body: position in the input, bytes left in the current chunk.
    Chunk chunk_ = Chunk::size_line;
    std::size_t chunk_pos_ = 0;
    uint64_t chunk_left_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::string decoded_;
};

}  // namespace kerberus::http
