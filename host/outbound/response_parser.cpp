#include "outbound/response_parser.h"

#include "outbound/header_rules.h"

#include <algorithm>
#include <cstring>

namespace kerberus::outbound {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Quotes a value the upstream sent, shortened, for an error text.
std::string quoted(std::string_view value) {
    constexpr std::size_t kMax = 40;
    std::string out = "\"";
    for (char c : value.substr(0, kMax)) out += (c >= 32 && c < 127) ? c : '?';
    if (value.size() > kMax) out += "...";
    return out + "\"";
}

// The line without its terminator ("\n" or "\r\n").
std::string_view chomp(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

void ResponseParser::reset(bool head_request, uint64_t max_body, bool streaming) {
    streaming_ = streaming;
    upgrade_ = false;
    body_total_ = 0;
    state_ = State::head;
    body_mode_ = Body::none;
    head_request_ = head_request;
    started_ = false;
    keep_alive_ = false;
    max_body_ = max_body;
    remaining_ = 0;
    status_ = 0;
    line_start_ = 0;
    trailer_bytes_ = 0;
    head_.clear();
    line_.clear();
    fields_.clear();
    // A connection that once carried a huge body should not keep it forever.
    if (body_.capacity() > 1024 * 1024) std::string().swap(body_);
    body_.clear();
    error_.clear();
}

std::size_t ResponseParser::feed(const char* data, std::size_t len) {
    std::size_t used = 0;
    if (len > 0) started_ = true;
    while (used < len && !finished()) {
        used += state_ == State::head ? feed_head(data + used, len - used) : feed_body(data + used, len - used);
    }
    return used;
}

void ResponseParser::eof() {
    if (state_ == State::body && body_mode_ == Body::until_close) {
        state_ = State::done;
        keep_alive_ = false;
    } else if (state_ == State::head) {
        fail(State::malformed, started_ ? "connection closed in the middle of the response head"
                                        : "connection closed before any response byte");
    } else if (state_ == State::body) {
        fail(State::malformed, "connection closed before the end of the response body");
    }
}

void ResponseParser::fail(State state, std::string why) {
    state_ = state;
    keep_alive_ = false;
    error_ = std::move(why);
}

std::size_t ResponseParser::feed_head(const char* data, std::size_t len) {
    const void* nl = std::memchr(data, '\n', len);
    std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1 : len;
    if (head_.size() + take > kMaxHead) {
        fail(State::malformed, "response head larger than " + std::to_string(kMaxHead / 1024) + " KiB");
        return take;
    }
    head_.append(data, take);
    if (nl == nullptr) return take;
    std::string_view line = chomp(std::string_view(head_).substr(line_start_));
    if (!line.empty()) {
        line_start_ = head_.size();
        return take;
    }
    parse_head();
    return take;
}

void ResponseParser::parse_head() {
    std::string_view head(head_);
    std::size_t eol = head.find('\n');
    std::string_view status_line = chomp(head.substr(0, eol + 1));
    std::string_view lines = head.substr(eol + 1);

    // "HTTP/1.x NNN[ reason]"
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
        (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ' ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        fail(State::malformed, "invalid status line " + quoted(status_line));
        return;
    }
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        char c = status_line[i];
        if (c < '0' || c > '9') {
            fail(State::malformed, "invalid status line " + quoted(status_line));
            return;
        }
        status = status * 10 + (c - '0');
    }
    if (status < 100) {
        fail(State::malformed, "invalid status line " + quoted(status_line));
        return;
    }
    const bool http10 = status_line[7] == '0';

    bool has_te = false, chunked = false, has_length = false;
    uint64_t length = 0;
    fields_.clear();
    bool close = false, keep_alive = false;
    if (!parse_fields(lines, has_te, chunked, has_length, length, close, keep_alive)) return;
    keep_alive_ = !close && (!http10 || keep_alive);

    if (status < 200) {
        if (status == 101 && upgrade_) {
            // The upgrade was taken up: what follows is the new protocol's,
            // handed on as body until the connection ends.
            status_ = status;
            keep_alive_ = false;
            state_ = State::body;
            body_mode_ = Body::until_close;
            return;
        }
        if (status == 101) {
            fail(State::malformed, "unexpected 101 Switching Protocols (no upgrade was requested)");
            return;
        }
        // An interim response (100 Continue, 103 Early Hints): the final one follows.
        head_.clear();
        fields_.clear();
        line_start_ = 0;
        return;
    }
    status_ = status;
    if (http10 && has_te) keep_alive_ = false;  // RFC 9112 6.1: treat as faulty framing, but read it
    frame_body(has_te, chunked, has_length, length);
}

bool ResponseParser::parse_fields(std::string_view lines, bool& has_te, bool& chunked, bool& has_length,
                                  uint64_t& length, bool& close, bool& keep_alive) {
    while (!lines.empty()) {
        std::size_t eol = lines.find('\n');
        std::string_view line = chomp(lines.substr(0, eol + 1));
        lines.remove_prefix(eol + 1);
        if (line.empty()) break;  // the blank line ending the head
        if (is_space(line.front())) {
            fail(State::malformed, "obsolete folded header line in the response");
            return false;
        }
        std::size_t colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        if (colon == std::string_view::npos || !is_token(name)) {
            fail(State::malformed, "invalid header line " + quoted(line) + " in the response");
            return false;
        }
        std::string_view value = trim(line.substr(colon + 1));
        fields_.push_back({name, value});

        if (iequals(name, "content-length")) {
            bool ok = true;
            for_each_element(value, [&](std::string_view element) {
                uint64_t n = 0;
                if (element.size() > 18) ok = false;
                for (char c : element) {
                    if (c < '0' || c > '9') ok = false;
                    n = n * 10 + static_cast<uint64_t>(c - '0');
                }
                if (ok && has_length && n != length) ok = false;
                has_length = true;
                length = n;
            });
            if (!ok || !has_length) {
                fail(State::malformed, "invalid or conflicting Content-Length " + quoted(value) + " in the response");
                return false;
            }
        } else if (iequals(name, "transfer-encoding")) {
            has_te = true;
            // Only the last coding decides how the body ends.
            chunked = false;
            for_each_element(value, [&](std::string_view coding) { chunked = iequals(coding, "chunked"); });
        } else if (iequals(name, "connection")) {
            for_each_element(value, [&](std::string_view option) {
                close = close || iequals(option, "close");
                keep_alive = keep_alive || iequals(option, "keep-alive");
            });
        }
    }
    return true;
}

void ResponseParser::frame_body(bool has_te, bool chunked, bool has_length, uint64_t length) {
    if (head_request_ || status_ == 204 || status_ == 304) {
        state_ = State::done;
        return;
    }
    state_ = State::body;
    if (has_te) {
        // Transfer-Encoding overrides Content-Length (RFC 9112 6.3), and such
        // a message could be smuggling: never reuse its connection.
        if (has_length) keep_alive_ = false;
        body_mode_ = chunked ? Body::chunk_size : Body::until_close;
        if (!chunked) keep_alive_ = false;
        return;
    }
    if (has_length) {
        if (length > max_body_) {
            fail(State::too_large, "response body larger than the limit");
            return;
        }
        if (!streaming_) body_.reserve(length);
        remaining_ = length;
        body_mode_ = Body::length;
        if (length == 0) state_ = State::done;
        return;
    }
    body_mode_ = Body::until_close;
    keep_alive_ = false;
}

bool ResponseParser::append_body(const char* data, std::size_t len) {
    if (len > max_body_ - body_total_) {
        fail(State::too_large, "response body larger than the limit");
        return false;
    }
    body_.append(data, len);
    body_total_ += len;
    return true;
}

bool ResponseParser::take_line(const char* data, std::size_t len, std::size_t& used, std::size_t limit,
                               const char* what) {
    const void* nl = std::memchr(data, '\n', len);
    std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1 : len;
    used = take;
    if (line_.size() + take > limit) {
        fail(State::malformed, std::string(what) + " longer than " + std::to_string(limit) + " bytes");
        return false;
    }
    line_.append(data, take);
    return nl != nullptr;
}

std::size_t ResponseParser::feed_body(const char* data, std::size_t len) {
    std::size_t used = 0;
    switch (body_mode_) {
        case Body::length: {
            used = static_cast<std::size_t>(std::min<uint64_t>(remaining_, len));
            if (!append_body(data, used)) return used;
            remaining_ -= used;
            if (remaining_ == 0) state_ = State::done;
            return used;
        }
        case Body::until_close:
            append_body(data, len);
            return len;
        case Body::chunk_size:
            if (take_line(data, len, used, kMaxChunkLine, "chunk size line")) end_chunk_line();
            return used;
        case Body::chunk_data: {
            used = static_cast<std::size_t>(std::min<uint64_t>(remaining_, len));
            if (!append_body(data, used)) return used;
            remaining_ -= used;
            if (remaining_ == 0) body_mode_ = Body::chunk_end;
            return used;
        }
        case Body::chunk_end:
            if (take_line(data, len, used, 2, "chunk data")) {
                if (chomp(line_).empty()) {
                    line_.clear();
                    body_mode_ = Body::chunk_size;
                } else {
                    fail(State::malformed, "chunk data longer than its size");
                }
            }
            return used;
        case Body::trailers:
            if (take_line(data, len, used, kMaxHead - trailer_bytes_, "response trailers")) end_trailer_line();
            return used;
        case Body::none:
            break;
    }
    state_ = State::done;
    return 0;
}

void ResponseParser::end_chunk_line() {
    std::string_view line = chomp(line_);
    std::size_t end = 0;
    uint64_t size = 0;
    while (end < line.size()) {
        char c = ascii_lower(line[end]);
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) break;
        if (end == 15) {  // 16 hex digits would overflow what any body may hold
            fail(State::malformed, "chunk size " + quoted(line) + " too large");
            return;
        }
        size = size * 16 + static_cast<uint64_t>(digit);
        ++end;
    }
    std::string_view rest = trim(line.substr(end));
    if (end == 0 || (!rest.empty() && rest.front() != ';')) {
        fail(State::malformed, "invalid chunk size line " + quoted(line));
        return;
    }
    line_.clear();
    if (size == 0) {
        body_mode_ = Body::trailers;
        return;
    }
    if (size > max_body_ - body_total_) {
        fail(State::too_large, "response body larger than the limit");
        return;
    }
    remaining_ = size;
    body_mode_ = Body::chunk_data;
}

void ResponseParser::end_trailer_line() {
    bool blank = chomp(line_).empty();
    trailer_bytes_ += line_.size();
    line_.clear();
    if (blank) state_ = State::done;
}

}  // namespace kerberus::outbound
