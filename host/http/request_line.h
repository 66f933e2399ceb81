#pragma once

#include <string_view>

#include <memory>

#include <pistache/http.h>
#include <pistache/peer.h>

namespace kerberus::http {

// The request line ("GET /a/b?x=1&x=2 HTTP/1.1") of the request being
// handled on the writer's connection, exactly as received; empty if it
// cannot be found. Valid until the handler returns.
std::string_view current_request_line(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

// The query part of a request line, without '?': "x=1&x=2".
std::string_view query_of_request_line(std::string_view line);

}  // namespace kerberus::http
