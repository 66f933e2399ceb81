#include "outbound/plain_request.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "outbound/header_rules.h"

namespace kerberus::outbound {
namespace {

bool visible_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c <= 32 || c >= 127) return false;
    return true;
}

// "", or ":<port>" with a port libcurl would read the same way.
std::optional<uint16_t> parse_port(std::string_view after_host) {
    if (after_host.empty()) return 80;
    if (after_host.front() != ':' || after_host.size() < 2 || after_host.size() > 6) return std::nullopt;
    unsigned value = 0;
    auto digits = after_host.substr(1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

// What a DNS lookup is asked for (RFC 1123 2.1 labels): anything more
// unusual, percent-encoded or numeric, is libcurl's to read.
bool is_dns_name(std::string_view host) {
    if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
    bool letter = false;
    for (char c : host) {
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        letter = letter || alpha;
        if (!alpha && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
    }
    return letter && host.find("..") == std::string_view::npos;
}

}  // namespace

std::optional<PlainUrl> parse_plain_url(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
    std::string_view rest = url.substr(kScheme.size());
    std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view target = rest.substr(authority_end);
    target = target.substr(0, target.find('#'));
    if (authority.empty() || !visible_ascii(authority) || !visible_ascii(target)) return std::nullopt;
    // Userinfo becomes an Authorization header in libcurl; leave it to libcurl.
    if (authority.find('@') != std::string_view::npos) return std::nullopt;

    PlainUrl out;
    std::string host;  // as libcurl writes it in Host
    std::optional<uint16_t> port;
    if (authority.front() == '[') {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        std::string literal(authority.substr(1, close - 1));
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.address);
        if (::inet_pton(AF_INET6, literal.c_str(), &sin6->sin6_addr) != 1) return std::nullopt;
        port = parse_port(authority.substr(close + 1));
        if (!port) return std::nullopt;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(*port);
        out.address_len = sizeof(sockaddr_in6);
        // libcurl rewrites an IPv6 literal to its shortest form.
        char shortest[INET6_ADDRSTRLEN];
        if (::inet_ntop(AF_INET6, &sin6->sin6_addr, shortest, sizeof shortest) && std::strlen(shortest) < literal.size())
            literal = shortest;
        host = "[" + literal + "]";
    } else {
        std::size_t colon = authority.find(':');
        host = std::string(authority.substr(0, colon));
        port = parse_port(colon == std::string_view::npos ? std::string_view() : authority.substr(colon));
        if (!port) return std::nullopt;
        auto* sin = reinterpret_cast<sockaddr_in*>(&out.address);
        // inet_pton takes dotted quads only; "127.1" and friends go to libcurl.
        if (::inet_pton(AF_INET, host.c_str(), &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
            sin->sin_port = htons(*port);
            out.address_len = sizeof(sockaddr_in);
        } else if (is_dns_name(host)) {
            out.host_name = host;  // resolved by the engine, without blocking it
        } else {
            return std::nullopt;
        }
    }
    out.port = *port;
    out.authority = host + ":" + std::to_string(*port);
    out.host_header = *port == 80 ? host : out.authority;
    out.target = target;
    return out;
}

void write_request(std::string& out, std::string_view method, const PlainUrl& url,
                   const kerberus_outbound_request& r) {
    const bool head = method == "HEAD";
    // A streamed body (ABI 1.5) follows the head as the plugin gives it.
    const bool streamed = (r.flags & KERBERUS_OUTBOUND_STREAMED_BODY) != 0;
    // An upgrade has no body: what is written later is the new protocol's.
    const bool upgrade = (r.flags & KERBERUS_OUTBOUND_UPGRADE) != 0;
    const bool chunked = streamed && !upgrade && r.body_len == KERBERUS_BODY_LENGTH_UNKNOWN;
    const bool sends_body =
        !upgrade &&
        (streamed || (!head && (r.body_len > 0 || method == "POST" || method == "PUT" || method == "PATCH")));
    std::size_t size =
        method.size() + url.target.size() + url.host_header.size() + 40 + (sends_body && !streamed ? r.body_len : 0);
    for (std::size_t i = 0; i < r.header_count; ++i) size += r.headers[i].name.len + r.headers[i].value.len + 4;
    out.reserve(out.size() + size);

    out.append(method).append(" ");
    if (url.target.empty() || url.target.front() == '?') out += '/';
    out.append(url.target).append(" HTTP/1.1\r\n");
    bool has_host = false;
    for (std::size_t i = 0; i < r.header_count && !has_host; ++i) has_host = iequals(view_of(r.headers[i].name), "host");
    if (!has_host) out.append("Host: ").append(url.host_header).append("\r\n");
    for (std::size_t i = 0; i < r.header_count; ++i) {
        std::string_view name = view_of(r.headers[i].name), value = view_of(r.headers[i].value);
        if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
        out.append(name).append(value.empty() ? ":" : ": ").append(value).append("\r\n");
    }
    if (chunked) {
        out.append("Transfer-Encoding: chunked\r\n");
    } else if (sends_body) {
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, r.body_len);
        (void)ec;
        out.append("Content-Length: ").append(digits, end).append("\r\n");
    }
    out.append("\r\n");
    if (sends_body && !streamed && r.body_len > 0) out.append(r.body, r.body_len);
}

bool asks_to_close(const kerberus_outbound_request& r) {
    for (std::size_t i = 0; i < r.header_count; ++i) {
        if (!iequals(view_of(r.headers[i].name), "connection")) continue;
        std::string_view value = view_of(r.headers[i].value);
        while (!value.empty()) {
            std::size_t comma = std::min(value.find(','), value.size());
            std::string_view option = value.substr(0, comma);
            while (!option.empty() && (option.front() == ' ' || option.front() == '\t')) option.remove_prefix(1);
            while (!option.empty() && (option.back() == ' ' || option.back() == '\t')) option.remove_suffix(1);
            if (iequals(option, "close")) return true;
            value.remove_prefix(std::min(comma + 1, value.size()));
        }
    }
    return false;
}

}  // namespace kerberus::outbound
