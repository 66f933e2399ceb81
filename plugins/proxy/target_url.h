// An endpoint's `target`, split once at init so that building an upstream
// URL per request is plain concatenation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace proxy {

struct TargetUrl {
    std::string base;       // scheme://authority[/path], as configured but for the query
    std::string query;      // after '?', without it; usually empty
    std::string authority;  // host[:port] as written: the Host header with changeOrigin
};

// std::nullopt, with the reason in `why`, unless `text` is an http:// or
// https:// URL with a host. `why` never quotes the URL: a target may carry
// a key in its query.
std::optional<TargetUrl> parse_target_url(std::string_view text, std::string& why);

}  // namespace proxy
