#include "config/scalar_syntax.h"

#include <charconv>
#include <cmath>

namespace kerberus::config::detail {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower[i]) return false;
    }
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t skip_digits(std::string_view text, std::size_t i) {
    while (i < text.size() && is_digit(text[i])) ++i;
    return i;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? : checked by hand
// because from_chars also takes "inf", "nan" and hex forms.
bool is_decimal_number(std::string_view text) {
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    std::size_t int_end = skip_digits(text, i);
    bool has_int = int_end > i;
    i = int_end;
    bool has_frac = false;
    if (i < text.size() && text[i] == '.') {
        std::size_t frac_end = skip_digits(text, i + 1);
        has_frac = frac_end > i + 1;
        i = frac_end;
    }
    if (!has_int && !has_frac) return false;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        std::size_t exp_end = skip_digits(text, i);
        if (exp_end == i) return false;
        i = exp_end;
    }
    return i == text.size();
}

}  // namespace

bool is_null_text(std::string_view text) {
    return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::optional<bool> parse_bool(std::string_view text) {
    if (equals_ignoring_case(text, "true")) return true;
    if (equals_ignoring_case(text, "false")) return false;
    return std::nullopt;
}

std::optional<bool> parse_bool_word(std::string_view text) {
    if (auto b = parse_bool(text)) return b;
    if (equals_ignoring_case(text, "yes") || equals_ignoring_case(text, "on")) return true;
    if (equals_ignoring_case(text, "no") || equals_ignoring_case(text, "off")) return false;
    return std::nullopt;
}

std::optional<int64_t> parse_int64(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    std::size_t digits_from = !text.empty() && text.front() == '-' ? 1 : 0;
    if (text.size() == digits_from || skip_digits(text, digits_from) != text.size()) return std::nullopt;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<double> parse_double(std::string_view text) {
    if (!is_decimal_number(text)) return std::nullopt;
    if (text.front() == '+') text.remove_prefix(1);
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

}  // namespace kerberus::config::detail
