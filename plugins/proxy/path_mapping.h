// From the path a client asked for to the URL the upstream is asked for.
// Only configured targets are ever reachable: the request contributes a
// path below the target's path and a query, never a host.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "endpoint_config.h"

namespace proxy {

// Where the plugin is mounted; pathRewrite sees incoming paths with it.
inline constexpr std::string_view kMountPath = "/api/proxy";

// Longer raw paths get 414, as nginx answers by default. It also bounds the
// input of std::regex, whose matcher recurses once per character and would
// run out of stack on a path of a few dozen KiB.
inline constexpr std::size_t kMaxPathBytes = 8192;

// The endpoint with the longest key k such that `path` (decoded, below the
// mount point) is k or starts with k + "/"; nullptr when none does.
// `endpoints` is sorted by key.
const Endpoint* match_endpoint(const std::vector<Endpoint>& endpoints, std::string_view path) noexcept;

// Why the raw path must not be forwarded ('.' or '..' segments, raw or
// percent-encoded, also between encoded slashes as in "a%2F..%2Fb"; a raw
// '\'; control characters; malformed escapes), or nullptr when it may be.
// An encoded '/' or '\' is data and goes upstream as sent. The daemon refuses these
// already; the proxy checks again because the raw path is what it forwards.
const char* unsafe_path_reason(std::string_view raw_path) noexcept;

// The upstream URL for a request to `ep`: `raw_path` is the full path as
// the client sent it ("/api/proxy/simple/a%20b"), `query` the raw query
// string without '?'. Without pathRewrite the part after the key is joined
// to the target's path with exactly one '/'; with it, the first matching
// rule rewrites "/api/proxy" + key + that part, and the result is joined
// instead. Runs of '/' become one; bytes no URL may hold are
// percent-encoded.
std::string upstream_url(const Endpoint& ep, std::string_view raw_path, std::string_view query);

}  // namespace proxy
