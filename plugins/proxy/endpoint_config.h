// The proxy's configuration: `endpoints` in Backstage's shape, checked in
// full at init so that a mistake fails the plugin with the key path named,
// instead of surfacing as odd answers later. Everything a request needs is
// prepared here once: parsed target, compiled regexes, header sets.
#pragma once

#include <chrono>
#include <cstdint>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "header_policy.h"
#include "target_url.h"

namespace proxy {

inline constexpr std::chrono::milliseconds kDefaultTimeout{30'000};

struct RewriteRule {
    std::regex pattern;
    std::string replacement;  // ECMAScript format: $1, $&, $$
};

struct Endpoint {
    std::string key;               // "/github": no trailing '/', no empty, '.' or '..' segment
    std::size_t key_segments = 0;  // 1 for "/github", 2 for "/a/b"
    TargetUrl target;
    bool change_origin = true;
    std::vector<RewriteRule> path_rewrite;                     // the first rule that matches applies
    std::vector<std::pair<std::string, std::string>> headers;  // set upstream; values may be secrets
    HeaderNameSet header_names;                                // the names in `headers`
    std::vector<std::string> allowed_methods;                  // empty: every method
    std::string allow;                                         // the Allow header of a 405
    Credentials credentials = Credentials::require;
    HeaderPolicy header_policy;
    std::chrono::milliseconds timeout = kDefaultTimeout;
    // maxResponseSize; 0: none (answers are relayed as they arrive, so
    // their size costs no memory).
    std::uint64_t max_response_bytes = 0;
    // ws: WebSocket upgrades are tunnelled to the target (idle: `timeout`).
    bool ws = false;

    bool allows(std::string_view method) const noexcept;
};

struct ProxyConfig {
    std::vector<Endpoint> endpoints;    // sorted by key
    std::vector<std::string> warnings;  // settings that are valid but cannot take effect
};

// what() is "<key path>: <problem>", e.g.
// "endpoints./github.pathRewrite: invalid regular expression '^/(': ...".
// It never quotes a header value or a target URL.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses the plugin's namespace as config_json() returns it.
ProxyConfig parse_config(std::string_view json);

}  // namespace proxy
