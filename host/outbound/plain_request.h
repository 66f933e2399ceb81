// What the plain-http client needs from a request before the loop sees it:
// where to connect (an IP literal: no name resolution, ever, on the loop
// thread) and the request bytes, formatted once on the caller's thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kerberus/plugin.h"

namespace kerberus::outbound {

struct PlainUrl {
    sockaddr_storage address{};  // an IP literal's; address_len 0 for a host name
    socklen_t address_len = 0;
    std::string host_name;       // a host name to resolve, as written; empty for an IP literal
    uint16_t port = 80;
    std::string authority;       // "127.0.0.1:8080", "[::1]:8080": Host header, pool key, error texts
    std::string host_header;     // the authority without ":80", as libcurl sends it
    std::string_view target;     // path and query exactly as given ("/" when empty)
};

// An http:// URL whose host is an IPv4 or bracketed IPv6 literal or a DNS
// name (letters, digits, '-' and '.', with at least one letter), without
// userinfo, with a plain decimal port and only visible ASCII; nullopt for
// anything else (libcurl handles those). The fragment is dropped, like
// libcurl does.
std::optional<PlainUrl> parse_plain_url(std::string_view url);

// Appends the whole HTTP/1.1 request to `out`: request line, Host unless
// the caller gave one, the caller's headers in order (but Content-Length and
// Transfer-Encoding: the body is framed here), Content-Length and the body.
// Headers must be validated already.
void write_request(std::string& out, std::string_view method, const PlainUrl& url,
                   const kerberus_outbound_request& request);

// True if the caller's headers ask to close the connection after this exchange.
bool asks_to_close(const kerberus_outbound_request& request);

}  // namespace kerberus::outbound
