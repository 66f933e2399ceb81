// Small text rules every part of the outbound client applies the same way.
#pragma once

#include <cstring>
#include <string_view>

#include "kerberus/plugin.h"

namespace kerberus::outbound {

inline std::string_view view_of(kerberus_str s) { return {s.data ? s.data : "", s.len}; }

inline bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s) {
        if (c <= 32 || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr) return false;
    }
    return true;
}

inline bool has_line_break(std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos || s.find('\0') != std::string_view::npos;
}

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

}  // namespace kerberus::outbound
