// HTTP's lexical rules (RFC 9110 5.6), shared by the request parser, the
// response headers plugins add and outbound requests. Header checks run per
// byte on every request, so tokens are looked up in a table.
#pragma once

#include <array>
#include <string_view>

namespace kerberus::http_syntax {

// tchar: what a method or a header name is made of.
inline constexpr std::array<bool, 256> kTokenChar = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

inline bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s) {
        if (!kTokenChar[c]) return false;
    }
    return true;
}

// field-value bytes: visible ASCII, SP, HTAB and obs-text; no other controls.
inline bool is_field_value(std::string_view s) {
    for (unsigned char c : s) {
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Header names and tokens compare case-insensitively.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

// Optional whitespace (SP, HTAB) off both ends.
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls f(element) for each element of a comma-separated list, trimmed,
// empty elements skipped (RFC 9110 5.6.1).
template <typename F>
void for_each_element(std::string_view list, F&& f) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view element = trim(list.substr(0, comma));
        if (!element.empty()) f(element);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

}  // namespace kerberus::http_syntax
