// What the request-parser fuzz targets share: the input format that lets a
// seed say where the client's bytes are split into reads, and a driver that
// feeds kerberus::http::RequestParser exactly as HttpConnection::on_data,
// serve() and on_timeout() (host/http/http_connection.cpp) do on one
// connection.
//
// Input format (text, so seeds can be written by hand):
//
//   <option line>\n<the bytes a client sends on one connection>
//
// The option line holds words separated by spaces:
//   N     the next read carries N bytes (N >= 1)
//   N*    from here on every read carries N bytes
//   hN    the parser's max_head limit (default 65536, kerberusd's)
//   bN    the parser's max_body limit (default 1048576, server.max_request_body's default)
// After the listed reads the rest arrives in one read. An empty line means
// one read of everything. A first line that is not an option list (or no
// '\n' within the first 256 bytes) is taken as no options at all: the whole
// input is the payload, in one read, so arbitrary bytes still test something.
//
// Examples: "3\n\r\n\r\nGET / ..." splits after the payload's 3rd byte;
// "2031 30 4096*\n..." sends 2031 bytes, then 30, then 4096 at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <string>
#include <string_view>
#include <vector>

#include "finding.h"
#include "http/request_parser.h"

namespace kerberus::fuzz {

using http::ParsedRequest;
using http::RequestParser;

inline constexpr std::size_t kDaemonMaxHead = 64 * 1024;     // kerberus::http::kMaxHeaderBytes
inline constexpr std::size_t kDaemonMaxBody = 1024 * 1024;   // ServerSettings::max_request_body default
// Reads past this many arrive together: a split of one byte per read over a
// 64 KiB head copies the pending bytes quadratically and would only slow the
// fuzzer down without reaching new states.
inline constexpr std::size_t kMaxReads = 1024;

struct FuzzInput {
    std::string_view payload;
    std::vector<std::size_t> reads;  // sizes, summing to payload.size()
    RequestParser::Limits limits{kDaemonMaxHead, kDaemonMaxBody};
};

namespace detail {

// Reads one option word; false when it is not one.
inline bool option(std::string_view word, std::vector<std::size_t>& sizes, std::size_t& repeat,
                   RequestParser::Limits& limits) {
    char kind = 'n';
    if (word.front() == 'h' || word.front() == 'b') {
        kind = word.front();
        word.remove_prefix(1);
    }
    bool repeating = false;
    if (kind == 'n' && !word.empty() && word.back() == '*') {
        repeating = true;
        word.remove_suffix(1);
    }
    if (word.empty() || word.size() > 8) return false;
    std::size_t n = 0;
    for (char c : word) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (kind == 'h') {
        limits.max_head = n == 0 ? 1 : n;
    } else if (kind == 'b') {
        limits.max_body = n;
    } else if (n == 0) {
        return false;
    } else if (repeating) {
        repeat = n;
    } else if (repeat == 0) {
        sizes.push_back(n);
    } else {
        return false;  // nothing may follow a repeating size
    }
    return true;
}

}  // namespace detail

inline FuzzInput read_input(const uint8_t* data, std::size_t size) {
    FuzzInput in;
    std::string_view all(reinterpret_cast<const char*>(data), size);
    in.payload = all;
    std::size_t nl = all.substr(0, 256).find('\n');
    std::vector<std::size_t> sizes;
    std::size_t repeat = 0;
    bool valid = nl != std::string_view::npos;
    if (valid) {
        std::string_view line = all.substr(0, nl);
        while (valid && !line.empty()) {
            std::size_t sp = line.find(' ');
            std::string_view word = line.substr(0, sp);
            if (!word.empty()) valid = detail::option(word, sizes, repeat, in.limits);
            line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
        }
    }
    if (!valid) {
        in.limits = {kDaemonMaxHead, kDaemonMaxBody};
        sizes.clear();
        repeat = 0;
    } else {
        in.payload = all.substr(nl + 1);
    }
    std::size_t left = in.payload.size();
    for (std::size_t n : sizes) {
        if (left == 0 || in.reads.size() + 1 >= kMaxReads) break;
        std::size_t take = n < left ? n : left;
        in.reads.push_back(take);
        left -= take;
    }
    while (repeat != 0 && left > 0 && in.reads.size() + 1 < kMaxReads) {
        std::size_t take = repeat < left ? repeat : left;
        in.reads.push_back(take);
        left -= take;
    }
    if (left > 0) in.reads.push_back(left);
    return in;
}

// What one connection made of its bytes: the requests in order and how it ended.
struct RequestResult {
    std::string method, target, body;
    std::vector<std::pair<std::string, std::string>> fields;
    bool keep_alive = false;
    bool http10 = false;
    std::size_t end = 0;  // offset in the payload just past this request
};

struct ConnectionResult {
    enum class End { all_read, failed, closed };
    std::vector<RequestResult> requests;
    End end = End::all_read;
    int status = 0;  // after `failed`
    std::string message;
    std::string method, target;  // what a rejection would be answered with
    std::size_t consumed = 0;    // payload bytes taken by complete requests
};

inline bool inside(std::string_view view, std::string_view buffer) {
    if (view.empty()) return true;  // an empty view refers to nothing
    auto v = reinterpret_cast<std::uintptr_t>(view.data());
    auto b = reinterpret_cast<std::uintptr_t>(buffer.data());
    return v >= b && v + view.size() <= b + buffer.size();
}

inline bool overlaps(std::string_view view, std::string_view buffer) {
    auto v = reinterpret_cast<std::uintptr_t>(view.data());
    auto b = reinterpret_cast<std::uintptr_t>(buffer.data());
    return !view.empty() && v < b + buffer.size() && b < v + view.size();
}

namespace detail {

inline void check_view(const char* name, std::string_view view, std::string_view request, std::size_t offset) {
    if (!inside(view, request)) {
        finding("a view outlives or escapes its input",
                std::string(name) + " of the request at payload offset " + std::to_string(offset) +
                    " does not lie inside the bytes that request took (" + std::to_string(request.size()) +
                    " bytes)");
    }
}

// After `complete`: every view points into the bytes this request took, but
// a chunked body, which the parser de-chunks into its own storage.
inline void check_complete(const ParsedRequest& r, std::string_view input, std::size_t offset) {
    if (r.size == 0 || r.size > input.size()) {
        finding("request size outside the input", "size " + std::to_string(r.size) + " with " +
                                                       std::to_string(input.size()) +
                                                       " bytes of input, at payload offset " +
                                                       std::to_string(offset));
    }
    std::string_view request = input.substr(0, r.size);
    check_view("method", r.method, request, offset);
    check_view("target", r.target, request, offset);
    check_view("head", r.head, request, offset);
    if (r.method.empty() || r.target.empty() || r.head.empty()) {
        finding("complete request without method, target or head", "at payload offset " + std::to_string(offset));
    }
    for (const auto& f : r.fields) {
        check_view("a field name", f.name, request, offset);
        check_view("a field value", f.value, request, offset);
    }
    // The first X-Request-Id, by its index among the fields.
    int first_id = -1;
    for (std::size_t i = 0; i < r.fields.size() && first_id < 0; ++i) {
        const auto& name = r.fields[i].name;
        if (name.size() == 12 && strncasecmp(name.data(), "x-request-id", 12) == 0) first_id = static_cast<int>(i);
    }
    if (r.request_id_field != first_id) {
        finding("request_id_field does not index the first X-Request-Id",
                "request_id_field " + std::to_string(r.request_id_field) + ", first X-Request-Id at " +
                    std::to_string(first_id) + ", at payload offset " + std::to_string(offset));
    }
    if (!inside(r.body, request)) {
        bool chunked = false;
        for (const auto& f : r.fields) {
            if (f.name.size() == 17 && strncasecmp(f.name.data(), "transfer-encoding", 17) == 0) chunked = true;
        }
        // Owned by the parser: not in the input at all. Reading it below
        // lets ASan tell if that storage is gone.
        if (!chunked || overlaps(r.body, input)) {
            finding("body view outside its request",
                    "a body that is not chunked, or that points into other bytes of the input, at payload offset " +
                        std::to_string(offset));
        }
    }
}

}  // namespace detail

// The connection loop of HttpConnection: parse over what was received; on
// `complete` take request.size bytes, reset() and go on with the rest; on
// `incomplete` keep what is left and parse it again with the next read
// appended; on `failed` (or a request that does not keep the connection)
// stop. Every read gets a fresh heap buffer holding the pending bytes plus
// the new ones, and the previous buffer is freed, so a view that outlives
// its buffer reads freed memory and ASan says so. When the bytes run out
// with a request half-received, the header timeout parses what is pending
// once more and answers 408 with the method and target it then holds: those
// must point into the pending bytes too.
inline ConnectionResult drive(std::string_view payload, const std::vector<std::size_t>& reads,
                              RequestParser::Limits limits) {
    ConnectionResult result;
    RequestParser parser(limits);
    ParsedRequest request;  // one per connection, reused as the daemon reuses it
    char* buffer = nullptr;
    std::size_t pending = 0;  // bytes at the start of `buffer` not yet taken
    std::size_t received = 0;
    bool closing = false;
    for (std::size_t n : reads) {
        if (closing) break;
        char* fresh = static_cast<char*>(std::malloc(pending + n));
        if (pending > 0) std::memcpy(fresh, buffer, pending);
        std::memcpy(fresh + pending, payload.data() + received, n);
        std::free(buffer);
        buffer = fresh;
        received += n;
        std::string_view input(buffer, pending + n);
        std::size_t used = 0;
        while (used < input.size()) {
            std::string_view rest = input.substr(used);
            std::size_t offset = received - rest.size();
            RequestParser::Status status = parser.parse(rest, request);
            if (status == RequestParser::Status::incomplete) {
                (void)parser.take_continue();
                break;
            }
            if (status == RequestParser::Status::failed) {
                // The rejection is answered with these two: a view left from
                // an earlier request would point into a freed buffer.
                if (!inside(request.method, rest) || !inside(request.target, rest)) {
                    finding("stale view after a failure",
                            "after a " + std::to_string(parser.error_status()) + " (" +
                                std::string(parser.error_message()) + ") at payload offset " +
                                std::to_string(offset) +
                                ", ParsedRequest::method/target do not point into the current input: "
                                "they are left from an earlier request whose buffer is gone");
                }
                result.end = ConnectionResult::End::failed;
                result.status = parser.error_status();
                result.message = parser.error_message();
                result.method = request.method;
                result.target = request.target;
                closing = true;
                break;
            }
            detail::check_complete(request, rest, offset);
            RequestResult r;
            r.method = request.method;
            r.target = request.target;
            r.body = request.body;
            for (const auto& f : request.fields) r.fields.emplace_back(f.name, f.value);
            r.keep_alive = request.keep_alive;
            r.http10 = request.http10;
            used += request.size;
            r.end = offset + request.size;
            result.consumed = r.end;
            result.requests.push_back(std::move(r));
            parser.reset();
            if (!request.keep_alive) {
                result.end = ConnectionResult::End::closed;
                closing = true;
                break;
            }
        }
        pending = input.size() - used;
        if (pending > 0 && used > 0) std::memmove(buffer, buffer + used, pending);
    }
    if (!closing && pending > 0) {
        std::string_view input(buffer, pending);
        (void)parser.parse(input, request);
        if (!inside(request.method, input) || !inside(request.target, input)) {
            finding("stale view in the header-timeout answer",
                    "the 408 for the " + std::to_string(pending) +
                        " pending bytes would name a method/target that does not point into them");
        }
        result.method = request.method;
        result.target = request.target;
    }
    std::free(buffer);
    return result;
}

}  // namespace kerberus::fuzz
