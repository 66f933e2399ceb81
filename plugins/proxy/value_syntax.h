// Text forms of the proxy's settings, written the way the daemon's own
// settings are (server.request_timeout, server.max_request_body), so one
// config file reads the same everywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace proxy {

// "250ms", "10s", "2m", "1h"; a bare integer counts seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "1048576", "512KiB", "10 MiB": B, KiB, MiB, GiB (powers of 1024) and KB,
// MB, GB (powers of 1000).
std::optional<std::uint64_t> parse_size(std::string_view text);

// An HTTP token (RFC 9110, 5.6.2): what a method or header name must be.
bool is_token(std::string_view text) noexcept;

}  // namespace proxy
