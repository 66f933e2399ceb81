#include "http/request_parser.h"

#include <cstring>

#include "common/http_syntax.h"

namespace kerberus::http {
namespace {

using http_syntax::ascii_lower;
using http_syntax::for_each_element;
using http_syntax::iequals;
using http_syntax::is_field_value;
using http_syntax::is_token;
using http_syntax::trim;

// Longest chunk-size line (with extensions) accepted: real clients send a
// few bytes; a line that never ends must not grow the buffer unbounded.
constexpr std::size_t kMaxChunkLine = 4096;

bool known_method(std::string_view m) {
    switch (m.size()) {
        case 3: return m == "GET" || m == "PUT";
        case 4: return m == "HEAD" || m == "POST";
        case 5: return m == "PATCH" || m == "TRACE";
        case 6: return m == "DELETE";
        case 7: return m == "OPTIONS" || m == "CONNECT";
        default: return false;
    }
}

bool parse_decimal(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;  // 19 digits always fit in 64 bits
    uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    out = n;
    return true;
}

// Visible ASCII only: the request-target grammar (RFC 9112 3.2) has no
// spaces, controls or raw non-ASCII bytes.
bool valid_target(std::string_view target) {
    if (target.empty()) return false;
    for (unsigned char c : target) {
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

// A field line's name and value (RFC 9112 5), or why it is malformed.
std::string split_field_line(std::string_view line, HeaderField& field) {
    if (line.front() == ' ' || line.front() == '\t') return "folded header line (obsolete line folding)";
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "header line without a colon";
    field.name = line.substr(0, colon);
    if (!is_token(field.name)) return "invalid header name";
    field.value = trim(line.substr(colon + 1));
    if (!is_field_value(field.value)) return "invalid character in header " + std::string(field.name);
    return {};
}

// What may follow a chunk size (RFC 9112 7.1.1):
//   *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
bool valid_chunk_extensions(std::string_view s) {
    std::size_t i = 0;
    auto skip_bws = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    };
    auto token = [&] {
        std::size_t from = i;
        while (i < s.size() && http_syntax::kTokenChar[static_cast<unsigned char>(s[i])]) ++i;
        return i > from;
    };
    auto quoted_string = [&] {
        if (i >= s.size() || s[i] != '"') return false;
        for (++i; i < s.size(); ++i) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c == '"') {
                ++i;
                return true;
            }
            if (c == '\\') {
                if (++i == s.size()) return false;
                c = static_cast<unsigned char>(s[i]);
            }
            if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
        }
        return false;
    };
    for (;;) {
        if (i == s.size()) return true;
        skip_bws();
        if (i == s.size() || s[i] != ';') return false;
        ++i;
        skip_bws();
        if (!token()) return false;
        // Whitespace after a name belongs to a following "=" or to nothing.
        std::size_t after_name = i;
        skip_bws();
        if (i < s.size() && s[i] == '=') {
            ++i;
            skip_bws();
            if (!token() && !quoted_string()) return false;
        } else {
            i = after_name;
        }
    }
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One line ending at `nl` (the '\n'), without its CR. False for a CR
// anywhere else in it: a bare CR is how requests get smuggled.
bool line_before(std::string_view text, std::size_t from, std::size_t nl, std::string_view& line) {
    line = text.substr(from, nl - from);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line.find('\r') == std::string_view::npos;
}

}  // namespace

RequestParser::Status RequestParser::fail(int status, std::string_view message) {
    error_status_ = status;
    error_message_.assign(message);
    return Status::failed;
}

bool RequestParser::take_continue() {
    if (!expect_continue_ || continue_taken_ || head_end_ == 0) return false;
    continue_taken_ = true;
    return true;
}

void RequestParser::reset() {
    error_status_ = 0;
    start_ = scanned_ = head_end_ = 0;
    before_request_line_ = true;
    content_length_ = 0;
    has_content_length_ = chunked_ = expect_continue_ = continue_taken_ = false;
    hosts_ = 0;
    close_ = keep_alive_token_ = false;
    upgrade_token_ = has_upgrade_ = false;
    body_choice_ = BodyChoice::undecided;
    chunk_pos_ = 0;
    decoded_.clear();
}

RequestParser::Status RequestParser::find_head_end(std::string_view input, ParsedRequest& out) {
    // Blank lines before a request line are skipped (RFC 9112 2.2): some
    // clients send a CRLF after a body. A CR at the end of the input may be
    // half of one: it stays unread until its next byte arrives, so the
    // outcome never depends on where a read ended.
    if (before_request_line_) {
        while (start_ < input.size()) {
            if (input[start_] == '\n') {
                ++start_;
            } else if (input[start_] == '\r' && start_ + 1 < input.size() && input[start_ + 1] == '\n') {
                start_ += 2;
            } else if (input[start_] == '\r' && start_ + 1 == input.size()) {
                break;
            } else {
                before_request_line_ = false;
                break;
            }
        }
        if (start_ > limits_.max_head) return fail(400, "too many blank lines before the request line");
        if (before_request_line_) return Status::incomplete;
        scanned_ = start_;
    }
    // The head ends at an empty line: "\n\n" or "\n\r\n". Lines are found
    // with memchr, so a head arriving in many pieces is scanned once.
    const char* data = input.data();
    std::size_t pos = scanned_;
    while (pos < input.size()) {
        const void* hit = std::memchr(data + pos, '\n', input.size() - pos);
        if (hit == nullptr) break;
        std::size_t nl = static_cast<const char*>(hit) - data;
        std::size_t next = nl + 1;
        if (next < input.size() && input[next] == '\n') {
            head_end_ = next + 1;
        } else if (next + 1 < input.size() && input[next] == '\r' && input[next + 1] == '\n') {
            head_end_ = next + 2;
        } else if (next + 1 >= input.size()) {
            // The empty line may still be arriving: look here again.
            break;
        }
        if (head_end_ != 0) break;
        pos = next;
    }
    if (head_end_ == 0) {
        scanned_ = pos;
        if (input.size() - start_ > limits_.max_head) return fail_head_too_large(input, out);
        return Status::incomplete;
    }
    if (head_end_ - start_ > limits_.max_head) return fail_head_too_large(input, out);
    return Status::complete;
}

// The error names the method and target only when this request's line has
// arrived whole and is well-formed; they point into `input`.
RequestParser::Status RequestParser::fail_head_too_large(std::string_view input, ParsedRequest& out) {
    std::string_view rest = input.substr(start_, limits_.max_head);
    std::size_t nl = rest.find('\n');
    std::string_view line;
    if (nl != std::string_view::npos && line_before(rest, 0, nl, line)) {
        std::size_t sp1 = line.find(' ');
        std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp2 != std::string_view::npos && valid_target(line.substr(sp1 + 1, sp2 - sp1 - 1)) &&
            known_method(line.substr(0, sp1))) {
            out.method = line.substr(0, sp1);
            out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        }
    }
    return fail(431, "request line and headers exceed " + std::to_string(limits_.max_head) + " bytes");
}

RequestParser::Status RequestParser::parse(std::string_view input, ParsedRequest& out) {
    bool first_time = head_end_ == 0;
    if (first_time) {
        // Nothing of the previous request may be read as this one's: its
        // views point into input that may be gone.
        out.method = out.target = out.head = out.body = {};
        out.fields.clear();
        out.http10 = false;
        out.request_id_field = -1;
        if (Status s = find_head_end(input, out); s != Status::complete) return s;
    }
    std::string_view head = input.substr(start_, head_end_ - start_);
    // The head is parsed whole once it is complete (framing, validity), and
    // again only for a request whose body took several reads, when the
    // input may have moved.
    if (first_time || out.head.data() != head.data()) {
        if (Status s = parse_head(head, out, first_time); s != Status::complete) return s;
    }

    if (body_choice_ == BodyChoice::undecided && ask_before_body_ && body_may_stream(input)) {
        out.body = {};
        out.size = head_end_;
        out.keep_alive = out.http10 ? keep_alive_token_ && !close_ : !close_;
        return Status::body_follows;
    }
    if (body_choice_ == BodyChoice::stream) {
        out.body = {};
        out.size = head_end_;
        return Status::complete;
    }
    if (!chunked_ && content_length_ > limits_.max_body) {
        return fail(413, "request body of " + std::to_string(content_length_) +
                             " bytes exceeds server.max_request_body (" + std::to_string(limits_.max_body) + " bytes)");
    }
    if (chunked_) {
        auto collect = [](void* into, std::string_view piece) {
            static_cast<std::string*>(into)->append(piece);
            return true;
        };
        switch (chunks_.decode(input, chunk_pos_, collect, &decoded_)) {
            case ChunkedDecoder::Result::more: return Status::incomplete;
            case ChunkedDecoder::Result::failed: return fail(chunks_.error_status(), chunks_.error_message());
            case ChunkedDecoder::Result::done: break;
        }
        out.body = decoded_;
        out.size = chunk_pos_;
    } else {
        if (input.size() - head_end_ < content_length_) return Status::incomplete;
        out.body = input.substr(head_end_, static_cast<std::size_t>(content_length_));
        out.size = head_end_ + static_cast<std::size_t>(content_length_);
    }
    out.keep_alive = out.http10 ? keep_alive_token_ && !close_ : !close_;
    continue_taken_ = true;  // nothing left to continue to
    return Status::complete;
}

bool RequestParser::body_may_stream(std::string_view input) const {
    if (chunked_ || upgrade()) return true;
    return content_length_ > 0 && (content_length_ > limits_.max_body || input.size() - head_end_ < content_length_);
}

RequestParser::Status RequestParser::parse_head(std::string_view head, ParsedRequest& out, bool first_time) {
    out.head = head;
    out.method = out.target = {};
    out.fields.clear();
    std::size_t nl = head.find('\n');
    std::string_view line;
    if (!line_before(head, 0, nl, line)) return fail(400, "bare CR in the request line");

    // request-line = method SP request-target SP HTTP-version
    std::size_t sp1 = line.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return fail(400, "malformed request line");
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) return fail(400, "malformed request method");
    if (target.empty()) return fail(400, "empty request target");
    if (!valid_target(target)) return fail(400, "invalid character in the request target");
    out.method = method;
    out.target = target;
    bool well_formed = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
                       version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9';
    if (version == "HTTP/1.0") {
        out.http10 = true;
    } else if (well_formed && version[5] == '1') {
        // A later 1.x is served as 1.1, the highest this server speaks (RFC 9110 2.5).
        out.http10 = false;
    } else if (well_formed) {
        return fail(505, "HTTP version " + std::string(version.substr(5)) + " not supported; use HTTP/1.1");
    } else {
        return fail(400, "malformed HTTP version");
    }
    if (!known_method(method)) return fail(501, "method " + std::string(method) + " not implemented");

    for (std::size_t from = nl + 1; from < head.size();) {
        std::size_t end = head.find('\n', from);
        if (!line_before(head, from, end, line)) return fail(400, "bare CR in a header line");
        if (line.empty()) break;  // the blank line that ends the head
        if (Status s = parse_field(line, out, first_time); s != Status::complete) return s;
        from = end + 1;
    }
    if (!first_time) return Status::complete;

    // An HTTP/1.0 client cannot take an interim response (RFC 9110 10.1.1),
    // and there is nothing to continue to without a body.
    if (out.http10 || (!chunked_ && content_length_ == 0)) expect_continue_ = false;
    if (out.http10) has_upgrade_ = false;  // RFC 9110 7.8: ignored in HTTP/1.0
    if (!out.http10 && hosts_ == 0) return fail(400, "missing Host header (required in HTTP/1.1)");
    if (hosts_ > 1) return fail(400, "more than one Host header");
    if (chunked_ && has_content_length_) return fail(400, "both Content-Length and Transfer-Encoding");
    if (chunked_ && out.http10) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (chunked_) {
        chunk_pos_ = head_end_;
        chunks_.reset(limits_.max_body, limits_.max_head);
    }
    return Status::complete;
}

RequestParser::Status RequestParser::parse_field(std::string_view line, ParsedRequest& out, bool first_time) {
    HeaderField field;
    if (std::string error = split_field_line(line, field); !error.empty()) return fail(400, error);
    std::string_view name = field.name;
    std::string_view value = field.value;
    if (out.fields.size() >= limits_.max_fields) {
        return fail(431, "more than " + std::to_string(limits_.max_fields) + " header fields");
    }
    out.fields.push_back({name, value});
    if (!first_time) return Status::complete;

    // Only the fields that decide framing and the connection are read here.
    switch (ascii_lower(name.front())) {
        case 'c':
            if (iequals(name, "content-length")) {
                uint64_t n = 0;
                if (!parse_decimal(value, n)) return fail(400, "invalid Content-Length");
                if (has_content_length_ && n != content_length_) return fail(400, "conflicting Content-Length headers");
                has_content_length_ = true;
                content_length_ = n;
            } else if (iequals(name, "connection")) {
                for_each_element(value, [&](std::string_view option) {
                    if (iequals(option, "close")) close_ = true;
                    if (iequals(option, "keep-alive")) keep_alive_token_ = true;
                    if (iequals(option, "upgrade")) upgrade_token_ = true;
                });
            }
            break;
        case 't':
            if (iequals(name, "transfer-encoding")) {
                // RFC 9112 6.1/6.3: chunked at most once and last; a coding
                // after it leaves the body's end unknowable (400), one this
                // server does not implement before it is a 501.
                std::string_view problem;
                int problem_status = 0;
                bool any = false;
                for_each_element(value, [&](std::string_view coding) {
                    any = true;
                    if (problem_status == 400) return;
                    if (chunked_) {
                        problem_status = 400;
                        problem = iequals(coding, "chunked") ? "chunked transfer coding applied twice"
                                                             : "a transfer coding after chunked";
                    } else if (iequals(coding, "chunked")) {
                        chunked_ = true;
                    } else if (problem_status == 0) {
                        problem_status = 501;
                        problem = coding;
                    }
                });
                if (problem_status == 400) return fail(400, std::string(problem));
                if (problem_status == 501) {
                    return fail(501, "transfer coding \"" + std::string(problem) + "\" not implemented");
                }
                if (!any) return fail(400, "empty Transfer-Encoding");
            }
            break;
        case 'h':
            if (iequals(name, "host")) ++hosts_;
            break;
        case 'e':
            if (iequals(name, "expect") && iequals(value, "100-continue")) expect_continue_ = true;
            break;
        case 'u':
            if (iequals(name, "upgrade")) has_upgrade_ = true;
            break;
        case 'x':
            if (out.request_id_field < 0 && iequals(name, "x-request-id")) {
                out.request_id_field = static_cast<int>(out.fields.size()) - 1;
            }
            break;
        default: break;
    }
    return Status::complete;
}

void ChunkedDecoder::reset(uint64_t max_body, std::size_t max_trailers) {
    max_body_ = max_body;
    max_trailers_ = max_trailers;
    chunk_ = Chunk::size_line;
    chunk_left_ = 0;
    decoded_ = 0;
    trailer_bytes_ = 0;
    error_status_ = 0;
    error_message_.clear();
}

ChunkedDecoder::Result ChunkedDecoder::fail(int status, std::string message) {
    error_status_ = status;
    error_message_ = std::move(message);
    return Result::failed;
}

ChunkedDecoder::Result ChunkedDecoder::decode(std::string_view input, std::size_t& pos, Sink sink, void* context) {
    while (chunk_ != Chunk::done) {
        switch (chunk_) {
            case Chunk::size_line: {
                std::string_view line;
                switch (next_crlf_line(input, pos, kMaxChunkLine, line)) {
                    case Line::complete: break;
                    case Line::incomplete: return Result::more;
                    case Line::too_long: return fail(400, "chunk size line too long");
                    case Line::bad_ending: return fail(400, "chunk size line not ended by CRLF");
                }
                uint64_t size = 0;
                std::size_t i = 0;
                for (; i < line.size() && hex_digit(line[i]) >= 0; ++i) {
                    if (i == 16) return fail(400, "chunk size too large");
                    size = size * 16 + static_cast<uint64_t>(hex_digit(line[i]));
                }
                if (i == 0 || !valid_chunk_extensions(line.substr(i))) return fail(400, "invalid chunk size line");
                if (size > max_body_ - decoded_) {
                    return fail(413, "request body exceeds server.max_request_body (" + std::to_string(max_body_) +
                                         " bytes)");
                }
                chunk_left_ = size;
                chunk_ = size == 0 ? Chunk::trailers : Chunk::data;
                break;
            }
            case Chunk::data: {
                std::size_t take = std::min<uint64_t>(chunk_left_, input.size() - pos);
                const bool go_on = take == 0 || sink(context, input.substr(pos, take));
                pos += take;
                chunk_left_ -= take;
                decoded_ += take;
                if (chunk_left_ == 0) chunk_ = Chunk::data_end;
                if (chunk_left_ > 0 || !go_on) return Result::more;
                break;
            }
            case Chunk::data_end: {
                std::string_view tail = input.substr(pos, 2);
                if (tail != std::string_view("\r\n", tail.size())) return fail(400, "chunk data not followed by CRLF");
                if (tail.size() < 2) return Result::more;
                pos += 2;
                chunk_ = Chunk::size_line;
                break;
            }
            case Chunk::trailers: {
                // Trailer fields are checked like header fields and read
                // past, not kept: nothing in the plugin API exposes them.
                std::size_t from = pos;
                std::string_view line;
                switch (next_crlf_line(input, pos, max_trailers_ - trailer_bytes_, line)) {
                    case Line::complete: break;
                    case Line::incomplete: return Result::more;
                    case Line::too_long: return fail(431, "request trailers too large");
                    case Line::bad_ending: return fail(400, "trailer line not ended by CRLF");
                }
                trailer_bytes_ += pos - from;
                if (line.empty()) {
                    chunk_ = Chunk::done;
                    break;
                }
                HeaderField field;
                if (std::string error = split_field_line(line, field); !error.empty()) {
                    return fail(400, error + " in the trailers");
                }
                break;
            }
            case Chunk::done: break;
        }
    }
    return Result::done;
}

// The chunked framing's lines (chunk size, trailers) end in CRLF and
// nothing else: RFC 9112 2.2 lets a recipient take a bare LF only in the
// start line and header fields, and a parser that takes one here while a
// proxy in front does not reads a different body (request smuggling).
ChunkedDecoder::Line ChunkedDecoder::next_crlf_line(std::string_view input, std::size_t& pos, std::size_t max_line,
                                                    std::string_view& line) {
    std::size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) return input.size() - pos > max_line ? Line::too_long : Line::incomplete;
    if (nl + 1 - pos > max_line) return Line::too_long;
    if (nl == pos || input[nl - 1] != '\r') return Line::bad_ending;
    line = input.substr(pos, nl - 1 - pos);
    if (line.find('\r') != std::string_view::npos) return Line::bad_ending;
    pos = nl + 1;
    return Line::complete;
}

}  // namespace kerberus::http
