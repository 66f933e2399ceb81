// What kerberus needs from Pistache 0.0.5 that its API does not give
// without a copy: the raw request bytes and header values by reference.
#pragma once

#include <string>
#include <string_view>

#include <pistache/http.h>

namespace kerberus::http {

// What a connection's parser holds right after it parsed a whole request,
// exactly as received. Valid until the parser is reset.
struct RawRequest {
    std::string_view line;      // "GET /a/b?x=1&x=2 HTTP/1.1"; empty if not found
    std::size_t size = 0;       // bytes of this request: line, headers, body
    std::string_view unparsed;  // bytes after it: pipelined requests
};
RawRequest raw_request(const Pistache::Http::RequestParser& parser);

// A request header's value. Pistache's Raw::value() returns a copy; plugins
// get views, which must point into the request itself.
const std::string& header_value(const Pistache::Http::Header::Raw& raw);

// The query part of a request line, without '?': "x=1&x=2".
std::string_view query_of_request_line(std::string_view line);

}  // namespace kerberus::http
