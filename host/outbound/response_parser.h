// An HTTP/1.x response parser for the plain-http client: a state machine fed
// the bytes of one connection in whatever pieces recv() returns them, with
// no I/O of its own so every split point can be tested.
//
// It keeps the head (status line and fields) in one buffer and hands out
// views into it, and collects the body de-chunked in another; both keep
// their capacity across the responses of a keep-alive connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kerberus::outbound {

struct ResponseField {
    std::string_view name;
    std::string_view value;  // without leading and trailing whitespace
};

class ResponseParser {
public:
    enum class State { head, body, done, malformed, too_large };

    static constexpr std::size_t kMaxHead = 256 * 1024;  // status line, fields and trailers together
    static constexpr std::size_t kMaxChunkLine = 4096;    // a chunk size line with its extensions

    // Starts a new response. A response to HEAD has no body whatever its
    // fields say; bodies larger than max_body end in too_large. `streaming`:
    // the caller takes the body as it comes (body(), then clear_body()), so
    // none is reserved up front.
    void reset(bool head_request, uint64_t max_body, bool streaming = false);

    // After reset(): the request asked for an upgrade, so a 101 answer is
    // final and everything after its head is body until the connection
    // ends (RFC 9110 15.2.2). Otherwise a 101 is malformed.
    void expect_upgrade() { upgrade_ = true; }

    // Consumes bytes up to the end of the response; returns how many. Bytes
    // left over after `done` belong to nothing (the connection is not reused).
    std::size_t feed(const char* data, std::size_t len);
    // The peer closed the connection: ends a close-delimited body, anything
    // else unfinished is malformed.
    void eof();

    State state() const { return state_; }
    bool finished() const { return state_ != State::head && state_ != State::body; }
    // True once any byte of a response arrived (a closed idle connection
    // shows none: that request may be retried).
    bool started() const { return started_; }
    // Why the response is malformed or too large.
    const std::string& error() const { return error_; }

    int status() const { return status_; }
    const std::vector<ResponseField>& fields() const { return fields_; }
    // The body received and not cleared (all of it unless streaming).
    const std::string& body() const { return body_; }
    void clear_body() { body_.clear(); }
    // The head is complete: status() and fields() are the final answer's.
    bool has_head() const { return state_ == State::body || state_ == State::done; }
    // The connection may carry another request: the response was framed by
    // its length and neither HTTP version nor Connection said otherwise.
    bool reusable() const { return state_ == State::done && keep_alive_; }

private:
    enum class Body { none, length, chunk_size, chunk_data, chunk_end, trailers, until_close };

    std::size_t feed_head(const char* data, std::size_t len);
    std::size_t feed_body(const char* data, std::size_t len);
    void parse_head();
    bool parse_fields(std::string_view lines, bool& has_te, bool& chunked, bool& has_length, uint64_t& length,
                      bool& close, bool& keep_alive);
    void frame_body(bool has_te, bool chunked, bool has_length, uint64_t length);
    // Collects a CRLF- or LF-terminated line into line_; true once complete.
    bool take_line(const char* data, std::size_t len, std::size_t& used, std::size_t limit, const char* what);
    bool append_body(const char* data, std::size_t len);
    void end_chunk_line();
    void end_trailer_line();
    void fail(State state, std::string why);

    State state_ = State::head;
    Body body_mode_ = Body::none;
    bool head_request_ = false;
    bool started_ = false;
    bool keep_alive_ = false;
    uint64_t max_body_ = 0;
    uint64_t body_total_ = 0;  // body bytes received, cleared or not
    bool streaming_ = false;
    bool upgrade_ = false;
    uint64_t remaining_ = 0;  // of a Content-Length body or of the current chunk
    int status_ = 0;
    std::size_t line_start_ = 0;  // in head_: where the line being received starts
    std::string head_;            // the final response's head; fields_ point into it
    std::string line_;            // a chunk size or trailer line being received
    std::size_t trailer_bytes_ = 0;
    std::vector<ResponseField> fields_;
    std::string body_;
    std::string error_;
};

}  // namespace kerberus::outbound
