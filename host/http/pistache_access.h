// What kerberus needs from Pistache 0.0.5 that its API does not give
// without a copy: the raw request bytes and header values by reference.
#pragma once

#include <string_view>

#include <memory>
#include <string>

#include <pistache/http.h>
#include <pistache/peer.h>

namespace kerberus::http {

// What Pistache's parser still holds of the request being handled on
// `peer`, exactly as received. Valid until the handler returns.
struct RawRequest {
    std::string_view line;  // "GET /a/b?x=1&x=2 HTTP/1.1"; empty if not found
    std::size_t size = 0;   // every byte of the request: line, headers, body
};
RawRequest current_raw_request(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

// A request header's value. Pistache's Raw::value() returns a copy; plugins
// get views, which must point into the request itself.
const std::string& header_value(const Pistache::Http::Header::Raw& raw);

// The query part of a request line, without '?': "x=1&x=2".
std::string_view query_of_request_line(std::string_view line);

}  // namespace kerberus::http
