#include "value_syntax.h"

#include <array>
#include <charconv>
#include <cstring>
#include <utility>

namespace proxy {
namespace {

std::optional<std::uint64_t> take_number(std::string_view& text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(digits);
    return value;
}

std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t unit) {
    std::uint64_t result = 0;
    if (__builtin_mul_overflow(value, unit, &result)) return std::nullopt;
    return result;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    std::optional<std::uint64_t> number = take_number(text);
    if (!number) return std::nullopt;
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 5> kUnits{{
        {"", 1'000},
        {"ms", 1},
        {"s", 1'000},
        {"m", 60'000},
        {"h", 3'600'000},
    }};
    for (const auto& [suffix, unit] : kUnits) {
        if (text != suffix) continue;
        std::optional<std::uint64_t> ms = scaled(*number, unit);
        if (!ms || *ms > static_cast<std::uint64_t>(std::chrono::milliseconds::max().count())) return std::nullopt;
        return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(*ms));
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::optional<std::uint64_t> number = take_number(text);
    if (!number) return std::nullopt;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> kUnits{{
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
        if (text == suffix) return scaled(*number, unit);
    }
    return std::nullopt;
}

bool is_token(std::string_view text) noexcept {
    if (text.empty()) return false;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr) return false;
    }
    return true;
}

}  // namespace proxy
