// Request path normalisation: the one place that decides what a path means
// before routing, so no `..`, `%2e%2e`, `//` or encoded slash can carry a
// request into another plugin's prefix.
#pragma once

#include <string>
#include <string_view>

namespace kerberus::http {

enum class PathError {
    none,
    not_absolute,   // does not start with '/'
    bad_escape,     // '%' not followed by two hex digits
    dot_segment,    // "." or ".." as a segment, raw or percent-encoded
    encoded_slash,  // %2F or %5C (a separator smuggled inside a segment)
    control_char,   // NUL or another control character, raw or encoded
    backslash,      // raw '\'
};

const char* describe(PathError e);  // short human text for 400 bodies

// Percent-decodes `raw` into `out` (cleared first), merges runs of '/' into
// one, and refuses dot-segments, encoded slashes/backslashes and control
// characters. Keeps a trailing '/'. `out` is a caller-owned buffer so the hot
// path can reuse its capacity.
PathError normalise_path(std::string_view raw, std::string& out);

// Percent-decoding for query components; `plus_as_space` for
// application/x-www-form-urlencoded. Returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space);

}  // namespace kerberus::http
