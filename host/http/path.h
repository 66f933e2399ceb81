// Request path normalisation: the one place that decides what a path means
// before routing, so no `..`, `%2e%2e`, `//` or encoded slash can carry a
// request into another plugin's prefix.
//
// An encoded '/' or '\' (%2F, %5C) inside a segment is data, not a
// separator (RFC 3986 §2.2): GitLab names projects "team%2Fservice". In
// EncodedSlashes::keep (Apache's `AllowEncodedSlashes NoDecode`) such a path
// keeps those escapes, and '%' itself as %25, so it still splits on '/'
// exactly as the client meant and can be decoded once, unambiguously, later
// (route parameters are). EncodedSlashes::refuse answers them with 400.
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

// server.encoded_slashes
enum class EncodedSlashes { keep, refuse };

// What normalise_path() made of a path.
struct NormalisedPath {
    PathError error = PathError::none;
    // True when the path kept %25, %2F and %5C escapes (always uppercase):
    // only with EncodedSlashes::keep and an encoded slash in the raw path.
    bool escaped = false;
};

// Percent-decodes `raw` into `out` (cleared first), merges runs of '/' into
// one, and refuses dot-segments, control characters and a raw '\'. Keeps a
// trailing '/'. Encoded slashes: see EncodedSlashes; when kept, a '.' or '..'
// between them is refused too ("a%2F..%2Fb"), since an upstream that
// decodes them would resolve it. `out` is a caller-owned buffer so the hot
// path can reuse its capacity.
NormalisedPath normalise_path(std::string_view raw, std::string& out, EncodedSlashes slashes);

// EncodedSlashes::refuse: the path is fully decoded or refused.
PathError normalise_path(std::string_view raw, std::string& out);

// Decodes a segment of an escaped normalised path (NormalisedPath::escaped),
// appending to `out`: its only escapes are %25, %2F and %5C.
void unescape_kept(std::string_view escaped, std::string& out);

// Percent-decoding for query components; `plus_as_space` for
// application/x-www-form-urlencoded. Returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space);

// The path and query of a request target. The absolute form
// ("http://host/p?q", RFC 9112 3.2.2) is read for its path; a fragment
// never reaches a server, but a broken client may send one.
void split_target(std::string_view target, std::string_view& path, std::string_view& query);

}  // namespace kerberus::http
