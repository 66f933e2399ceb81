// Fuzzes request path normalisation (host/http/path.cpp), the check that
// keeps a request inside its plugin's prefix. Both encoded-slash modes run
// on every input and must agree with each other and with what a route
// table relies on:
//   - a normal path starts with '/', holds no "//", no control character
//     and no '.' or '..' piece, split at '/' and at a kept %2F or %5C;
//   - a kept-escape path holds '%' only as %25, %2F or %5C and normalises
//     to itself again;
//   - refuse mode accepts exactly the inputs keep mode accepts without
//     keeping escapes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/path.h"

namespace {

using kerberus::http::EncodedSlashes;
using kerberus::http::NormalisedPath;
using kerberus::http::PathError;

void check(bool ok) {
    if (!ok) std::abort();
}

bool is_dot(std::string_view piece) { return piece == "." || piece == ".."; }

void check_normal(std::string_view path, bool escaped) {
    check(!path.empty() && path.front() == '/');
    check(path.find("//") == std::string_view::npos);
    std::size_t piece_start = 1;
    for (std::size_t i = 1; i <= path.size(); ++i) {
        const bool end = i == path.size();
        const unsigned char c = end ? '/' : static_cast<unsigned char>(path[i]);
        check(c >= 0x20 && c != 0x7f);
        check(end || c != '\\');
        bool separator = c == '/';
        if (escaped && c == '%') {
            const std::string_view escape = path.substr(i, 3);
            check(escape == "%25" || escape == "%2F" || escape == "%5C");
            separator = escape != "%25";
        }
        if (!separator) continue;
        check(!is_dot(path.substr(piece_start, i - piece_start)));
        i += c == '%' ? 2 : 0;
        piece_start = i + 1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    std::string kept, refused;
    const NormalisedPath k = kerberus::http::normalise_path(raw, kept, EncodedSlashes::keep);
    const NormalisedPath r = kerberus::http::normalise_path(raw, refused, EncodedSlashes::refuse);
    check(!r.escaped);
    if (k.error != PathError::none) {
        check(kept.empty());
        // Whatever keep mode refuses, refuse mode refuses too.
        check(r.error != PathError::none);
        return 0;
    }
    check_normal(kept, k.escaped);
    if (!k.escaped) {
        check(r.error == PathError::none && refused == kept);
        return 0;
    }
    check(r.error == PathError::encoded_slash && refused.empty());
    // Idempotent: what plugins see normalises to itself.
    std::string again;
    const NormalisedPath a = kerberus::http::normalise_path(kept, again, EncodedSlashes::keep);
    check(a.error == PathError::none && a.escaped && again == kept);
    // Decoding each segment once gives the bytes the client encoded.
    std::string decoded;
    kerberus::http::unescape_kept(kept, decoded);
    check(decoded.size() <= kept.size());
    return 0;
}
