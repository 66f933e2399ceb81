#include "header_policy.h"

#include <algorithm>

namespace proxy {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// <0, 0, >0 as `lower_name` sorts before, equal to or after `name`, ignoring
// the case of `name`.
int compare_lower(std::string_view lower_name, std::string_view name) noexcept {
    std::size_t n = std::min(lower_name.size(), name.size());
    for (std::size_t i = 0; i < n; ++i) {
        char a = lower_name[i];
        char b = lower(name[i]);
        if (a != b) return static_cast<unsigned char>(a) < static_cast<unsigned char>(b) ? -1 : 1;
    }
    if (lower_name.size() == name.size()) return 0;
    return lower_name.size() < name.size() ? -1 : 1;
}

// Backstage's proxy lets these through in both directions (besides Host and
// Content-Length, which the proxy and the daemon set themselves).
constexpr std::string_view kSafeRequestHeaders[] = {
    "cache-control", "content-language", "content-type", "expires",    "last-modified",
    "pragma",        "accept",           "accept-language", "user-agent",
};
constexpr std::string_view kSafeResponseHeaders[] = {
    "cache-control", "content-language", "content-type", "expires",     "last-modified",  "pragma",
    "etag",          "location",         "vary",         "retry-after", "www-authenticate",
};

// The proxy writes these itself from what it knows of the client.
constexpr std::string_view kProxySetHeaders[] = {"host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"};

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

HeaderNameSet::HeaderNameSet(std::initializer_list<std::string_view> names) {
    for (std::string_view name : names) insert(name);
}

void HeaderNameSet::insert(std::string_view name) {
    std::string lower_name = to_lower(name);
    auto it = std::lower_bound(names_.begin(), names_.end(), lower_name);
    if (it == names_.end() || *it != lower_name) names_.insert(it, std::move(lower_name));
}

void HeaderNameSet::erase(std::string_view name) {
    auto it = std::lower_bound(names_.begin(), names_.end(), name,
                               [](const std::string& a, std::string_view b) { return compare_lower(a, b) < 0; });
    if (it != names_.end() && compare_lower(*it, name) == 0) names_.erase(it);
}

bool HeaderNameSet::contains(std::string_view name) const noexcept {
    auto it = std::lower_bound(names_.begin(), names_.end(), name,
                               [](const std::string& a, std::string_view b) { return compare_lower(a, b) < 0; });
    return it != names_.end() && compare_lower(*it, name) == 0;
}

void ConnectionTokens::add_list(std::string_view value) {
    while (!value.empty()) {
        std::size_t comma = value.find(',');
        std::string_view token = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
        // "close" names no header and hop-by-hop names never pass anyway:
        // the usual "Connection: keep-alive" then costs nothing later.
        if (token.empty() || iequals(token, "close") || hop_by_hop_headers().contains(token)) continue;
        tokens_.emplace_back(token);
    }
}

bool ConnectionTokens::contains(std::string_view name) const noexcept {
    for (const std::string& token : tokens_) {
        if (iequals(token, name)) return true;
    }
    return false;
}

const HeaderNameSet& hop_by_hop_headers() {
    // Proxy-Connection is no standard header, but RFC 9110 (7.6.1) has
    // intermediaries drop it like the others.
    static const HeaderNameSet set{"connection", "keep-alive",       "proxy-authenticate", "proxy-authorization",
                                   "te",         "trailer",          "transfer-encoding",  "upgrade",
                                   "proxy-connection"};
    return set;
}

bool is_reserved_header(std::string_view name) noexcept {
    return hop_by_hop_headers().contains(name) || iequals(name, "content-length");
}

HeaderPolicy make_header_policy(const std::vector<std::string>& allowed, const HeaderNameSet& configured,
                                Credentials credentials, std::vector<std::string>& ignored) {
    HeaderPolicy policy;
    for (std::string_view name : kSafeRequestHeaders) policy.request.insert(name);
    for (std::string_view name : kSafeResponseHeaders) policy.response.insert(name);
    // As Backstage's proxy-backend: `forward` adds the caller's
    // Authorization and nothing else; cookies, and any other header, pass
    // when allowedHeaders names them, whatever `credentials` says.
    if (credentials == Credentials::forward) policy.request.insert("authorization");
    for (const std::string& name : allowed) {
        if (is_reserved_header(name)) {
            ignored.push_back(name);
            continue;
        }
        policy.request.insert(name);
        policy.response.insert(name);
    }
    for (std::string_view name : kProxySetHeaders) policy.request.erase(name);
    // The endpoint's own value replaces whatever the client sent.
    for (const std::string& name : configured) policy.request.erase(name);
    return policy;
}

}  // namespace proxy
