// The text forms of the host's own settings. Each parser returns nullopt for
// text it does not accept; range checks belong to the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace kerberus::config::detail {

// "1048576", "512KiB", "1 MiB": B, KiB, MiB, GiB (powers of 1024) and KB, MB,
// GB (powers of 1000).
std::optional<std::size_t> parse_size(std::string_view text);

// "250ms", "30s", "5m", "1h"; a bare integer counts seconds.
std::optional<Milliseconds> parse_duration(std::string_view text);

struct ListenAddress {
    std::string host;  // without the brackets of an IPv6 literal
    uint16_t port = 0;
};
// "127.0.0.1:7007", "[::1]:7007", "localhost:7007"; *why says what is wrong.
std::optional<ListenAddress> parse_listen(std::string_view text, std::string* why);

// The level names spdlog takes, case-insensitive; returns the lower-case name.
std::optional<std::string> parse_log_level(std::string_view text);

// 64 hexadecimal digits, either case; returns them in lower case.
std::optional<std::string> parse_sha256(std::string_view text);

// [a-z0-9][a-z0-9-]*, at most 64 characters: a URL segment and a YAML key.
bool is_plugin_id(std::string_view text);

}  // namespace kerberus::config::detail
