#include "config/setting_syntax.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace kerberus::config::detail {
namespace {

constexpr std::size_t kMaxPluginIdLength = 64;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Leading unsigned decimal; the rest of the text is left in `text`.
std::optional<uint64_t> take_number(std::string_view& text) {
    std::size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits])) ++digits;
    if (digits == 0) return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(digits);
    return value;
}

std::optional<uint64_t> scaled(uint64_t value, uint64_t unit) {
    uint64_t result = 0;
    if (__builtin_mul_overflow(value, unit, &result)) return std::nullopt;
    return result;
}

bool is_hostname(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    bool all_numeric = true;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= host.size(); ++i) {
        if (i == host.size() || host[i] == '.') {
            if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-') return false;
            label = 0;
            continue;
        }
        char c = host[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!letter && !is_digit(c) && c != '-') return false;
        if (!is_digit(c)) all_numeric = false;
        ++label;
    }
    // "256.1.1.1" looks like an IPv4 address, and is not a valid one.
    return !all_numeric;
}

}  // namespace

std::optional<std::size_t> parse_size(std::string_view text) {
    std::optional<uint64_t> number = take_number(text);
    if (!number) return std::nullopt;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    static constexpr std::array<std::pair<std::string_view, uint64_t>, 8> kUnits{{
        {"", 1},
        {"B", 1},
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"KB", 1'000},
        {"MB", 1'000'000},
        {"GB", 1'000'000'000},
    }};
    for (const auto& [suffix, unit] : kUnits) {
        if (text != suffix) continue;
        std::optional<uint64_t> bytes = scaled(*number, unit);
        if (!bytes || *bytes > std::numeric_limits<std::size_t>::max()) return std::nullopt;
        return static_cast<std::size_t>(*bytes);
    }
    return std::nullopt;
}

std::optional<Milliseconds> parse_duration(std::string_view text) {
    std::optional<uint64_t> number = take_number(text);
    if (!number) return std::nullopt;
    static constexpr std::array<std::pair<std::string_view, uint64_t>, 5> kUnits{{
        {"", 1'000},
        {"ms", 1},
        {"s", 1'000},
        {"m", 60'000},
        {"h", 3'600'000},
    }};
    for (const auto& [suffix, unit] : kUnits) {
        if (text != suffix) continue;
        std::optional<uint64_t> ms = scaled(*number, unit);
        if (!ms || *ms > static_cast<uint64_t>(std::numeric_limits<Milliseconds::rep>::max())) return std::nullopt;
        return Milliseconds(static_cast<Milliseconds::rep>(*ms));
    }
    return std::nullopt;
}

std::optional<ListenAddress> parse_listen(std::string_view text, std::string* why) {
    std::string_view host;
    std::string_view rest;
    if (text.starts_with('[')) {
        std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            *why = "an IPv6 address needs a closing ]";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        rest = text.substr(close + 1);
        in6_addr address;
        if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
            *why = "invalid IPv6 address";
            return std::nullopt;
        }
    } else {
        std::size_t colon = text.rfind(':');
        host = text.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
        in_addr address;
        if (host.find(':') != std::string_view::npos) {
            *why = "an IPv6 address must be in brackets, as in [::1]:7007";
            return std::nullopt;
        }
        if (inet_pton(AF_INET, std::string(host).c_str(), &address) != 1 && !is_hostname(host)) {
            *why = host.empty() ? "the host is missing" : "invalid host";
            return std::nullopt;
        }
    }
    if (!rest.starts_with(':')) {
        *why = "the port is missing";
        return std::nullopt;
    }
    rest.remove_prefix(1);
    std::optional<uint64_t> port = take_number(rest);
    if (!port || !rest.empty() || *port > std::numeric_limits<uint16_t>::max()) {
        *why = "the port must be a number from 0 to 65535";
        return std::nullopt;
    }
    return ListenAddress{std::string(host), static_cast<uint16_t>(*port)};
}

std::optional<std::string> parse_log_level(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    for (std::string_view level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
        if (lower == level) return lower;
    }
    return std::nullopt;
}

std::optional<std::string> parse_sha256(std::string_view text) {
    constexpr std::size_t kDigits = 64;
    if (text.size() != kDigits) return std::nullopt;
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return std::nullopt;
    }
    return lower;
}

bool is_plugin_id(std::string_view text) {
    if (text.empty() || text.size() > kMaxPluginIdLength || text.front() == '-') return false;
    for (char c : text) {
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-')) return false;
    }
    return true;
}

}  // namespace kerberus::config::detail
