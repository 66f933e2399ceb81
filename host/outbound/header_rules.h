// Small text rules every part of the outbound client applies the same way.
#pragma once

#include <string_view>

#include "kerberus/plugin.h"

namespace kerberus::outbound {

inline std::string_view view_of(kerberus_str s) { return {s.data ? s.data : "", s.len}; }

// Every header name and value of every request passes these: a table and
// one pass each, not a search per character.
struct TokenTable {
    bool allowed[256] = {};
    constexpr TokenTable() {
        for (int c = 33; c < 127; ++c) allowed[c] = true;
        for (const char* p = "\"(),/:;<=>?@[\\]{}"; *p; ++p) allowed[static_cast<unsigned char>(*p)] = false;
    }
};
inline constexpr TokenTable kTokenTable{};

inline bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!kTokenTable.allowed[c]) return false;
    return true;
}

inline bool has_line_break(std::string_view s) {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return true;
    return false;
}

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

}  // namespace kerberus::outbound
