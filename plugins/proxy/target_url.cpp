#include "target_url.h"

#include <charconv>
#include <cstdint>

namespace proxy {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_hex_or_colon(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

bool starts_with_ignoring_case(std::string_view s, std::string_view lower_prefix) {
    if (s.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_prefix[i]) return false;
    }
    return true;
}

bool valid_port(std::string_view digits) {
    if (digits.empty() || digits.size() > 5) return false;
    std::uint32_t port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return ec == std::errc() && end == digits.data() + digits.size() && port >= 1 && port <= 65535;
}

// host[:port], where host is a name, an IPv4 address or a bracketed IPv6
// literal.
const char* check_authority(std::string_view authority) {
    if (authority.empty()) return "has no host";
    if (authority.find('@') != std::string_view::npos) {
        return "must not contain credentials (user:password@); set an Authorization header in `headers` instead";
    }
    std::string_view host = authority;
    std::string_view port;
    bool has_port = false;
    if (authority.front() == '[') {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos || close == 1) return "has an invalid IPv6 host";
        for (char c : authority.substr(1, close - 1)) {
            if (!is_hex_or_colon(c)) return "has an invalid IPv6 host";
        }
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return "has an invalid host";
            has_port = true;
            port = after.substr(1);
        }
        host = {};
    } else if (std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        has_port = true;
        port = authority.substr(colon + 1);
    }
    if (authority.front() != '[') {
        if (host.empty()) return "has no host";
        for (char c : host) {
            if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '~') return "has an invalid host";
        }
    }
    if (has_port && !valid_port(port)) return "has an invalid port (1-65535)";
    return nullptr;
}

}  // namespace

std::optional<TargetUrl> parse_target_url(std::string_view text, std::string& why) {
    std::string_view scheme;
    if (starts_with_ignoring_case(text, "http://")) {
        scheme = "http://";
    } else if (starts_with_ignoring_case(text, "https://")) {
        scheme = "https://";
    } else {
        why = "must be an http:// or https:// URL with a host";
        return std::nullopt;
    }
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '\\') {
            why = "must not contain spaces, control characters, backslashes or non-ASCII bytes (percent-encode them)";
            return std::nullopt;
        }
    }
    if (text.find('#') != std::string_view::npos) {
        why = "must not contain a fragment (#...)";
        return std::nullopt;
    }
    std::string_view rest = text.substr(scheme.size());
    std::size_t authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    if (const char* problem = check_authority(authority)) {
        why = problem;
        return std::nullopt;
    }
    rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
    std::size_t question = rest.find('?');
    TargetUrl url;
    url.authority.assign(authority);
    url.base.assign(scheme);
    url.base.append(authority);
    url.base.append(rest.substr(0, question));
    if (question != std::string_view::npos) url.query.assign(rest.substr(question + 1));
    return url;
}

}  // namespace proxy
