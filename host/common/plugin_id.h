#pragma once

#include <string_view>

namespace kerberus {

// A plugin id is both a URL path segment and a YAML key, so it is kept to a
// conservative alphabet: [a-z0-9][a-z0-9-]*, at most 64 characters.
constexpr std::size_t kMaxPluginIdLength = 64;

constexpr bool is_valid_plugin_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxPluginIdLength || id.front() == '-') return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace kerberus
