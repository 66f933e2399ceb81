// Small text rules every part of the outbound client applies the same way.
#pragma once

#include <string_view>

#include "common/http_syntax.h"
#include "kerberus/plugin.h"

namespace kerberus::outbound {

inline std::string_view view_of(kerberus_str s) { return {s.data ? s.data : "", s.len}; }

using http_syntax::ascii_lower;
using http_syntax::for_each_element;
using http_syntax::iequals;
using http_syntax::is_token;
using http_syntax::trim;

inline bool has_line_break(std::string_view s) {
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return true;
    return false;
}

}  // namespace kerberus::outbound
