// Applies an endpoint's HeaderPolicy to one exchange: the client's headers
// on the way up, the upstream's on the way back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "endpoint_config.h"
#include "header_policy.h"

namespace proxy {

// Fills the header list of one upstream request. Feed it every client
// header in order, then call finish() once.
class UpstreamHeaders {
public:
    UpstreamHeaders(const Endpoint& ep, std::vector<std::pair<std::string, std::string>>& out) noexcept
        : ep_(ep), out_(out) {}

    // The views need only live during the call.
    void add_client_header(std::string_view name, std::string_view value);

    // Drops what the client's Connection header named, then adds Host,
    // X-Forwarded-For/-Proto/-Host, X-Request-Id (the daemon's id of the
    // request, the client's own when it sent a well-formed one) and the
    // endpoint's own headers, each of which wins over a client header of
    // the same name.
    void finish(std::string_view remote_address, std::string_view request_id);

private:
    const Endpoint& ep_;
    std::vector<std::pair<std::string, std::string>>& out_;
    std::string host_;
    bool has_host_ = false;
    std::string forwarded_for_;
    ConnectionTokens connection_;
};

// Calls add(name, value) for each upstream response header the client may
// see, in the order received.
template <class Add>
void for_each_returned_header(const Endpoint& ep,
                              const std::vector<std::pair<std::string_view, std::string_view>>& upstream, Add&& add) {
    ConnectionTokens connection;
    for (const auto& [name, value] : upstream) {
        if (iequals(name, "connection")) connection.add_list(value);
    }
    for (const auto& [name, value] : upstream) {
        if (!ep.header_policy.response.contains(name)) continue;
        if (!connection.empty() && connection.contains(name)) continue;
        add(name, value);
    }
}

// A WebSocket handshake's own headers (Sec-WebSocket-Key, -Version,
// -Accept, -Protocol, -Extensions), which pass both ways on a `ws` endpoint
// whatever allowedHeaders says, as they do through Backstage's proxy.
inline bool is_websocket_header(std::string_view name) {
    constexpr std::string_view kPrefix = "sec-websocket-";
    return name.size() > kPrefix.size() && iequals(name.substr(0, kPrefix.size()), kPrefix);
}

// The upstream's Content-Length, when it sent one.
inline std::optional<std::string_view> stated_length(
    const std::vector<std::pair<std::string_view, std::string_view>>& upstream) {
    for (const auto& [name, value] : upstream) {
        if (iequals(name, "content-length")) return value;
    }
    return std::nullopt;
}

// Whether the upstream framed its body with a transfer coding (which
// overrides any Content-Length it sent, RFC 9112 6.3).
inline bool has_transfer_coding(const std::vector<std::pair<std::string_view, std::string_view>>& upstream) {
    for (const auto& [name, value] : upstream) {
        if (iequals(name, "transfer-encoding")) return true;
    }
    return false;
}

}  // namespace proxy
