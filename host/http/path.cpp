#include "http/path.h"

namespace kerberus::http {
namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Decodes the escape whose '%' is at in[i]; -1 when malformed.
int decode_escape(std::string_view in, std::size_t i)
{
    if (in.size() - i < 3)
        return -1;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0)
        return -1;
    return hi * 16 + lo;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// True when `raw` is already normal: nothing to decode, refuse or merge.
// Most paths are, and copying them whole is a tenth of building them byte
// by byte.
bool already_normal(std::string_view raw)
{
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c == '%' || c == '\\' || is_control(c))
            return false;
        if (c == '/' && i + 1 < raw.size() && (raw[i + 1] == '/' || raw[i + 1] == '.'))
            return false;
    }
    return true;
}

}  // namespace

const char* describe(PathError e)
{
    switch (e) {
    case PathError::none: return "valid path";
    case PathError::not_absolute: return "path does not start with '/'";
    case PathError::bad_escape: return "malformed percent-escape in path";
    case PathError::dot_segment: return "'.' or '..' segment in path";
    case PathError::encoded_slash: return "encoded '/' or '\\' in path";
    case PathError::control_char: return "control character in path";
    case PathError::backslash: return "'\\' in path";
    }
    return "invalid path";
}

namespace {

bool has_encoded_slash(std::string_view raw)
{
    for (std::size_t i = raw.find('%'); i != std::string_view::npos; i = raw.find('%', i + 1)) {
        const int decoded = decode_escape(raw, i);
        if (decoded == '/' || decoded == '\\')
            return true;
    }
    return false;
}

bool is_dot_segment(std::string_view segment) { return segment == "." || segment == ".."; }

PathError normalise(std::string_view raw, std::string& out, bool keep_escapes)
{
    // Decoding and merging only ever shrink the path.
    out.reserve(raw.size());
    out.push_back('/');

    auto fail = [&out](PathError e) {
        out.clear();
        return e;
    };

    std::size_t i = 1;
    while (i < raw.size()) {
        if (raw[i] == '/') {
            ++i;
            continue;
        }
        // Segments are split on raw '/' only and decoded afterwards, which is
        // why a decoded '/' has to be kept encoded or refused.
        if (out.back() != '/')
            out.push_back('/');
        // A kept %2F or %5C also ends a piece for the dot-segment check.
        std::size_t piece_start = out.size();
        for (; i < raw.size() && raw[i] != '/'; ++i) {
            unsigned char c = static_cast<unsigned char>(raw[i]);
            if (c == '%') {
                const int decoded = decode_escape(raw, i);
                if (decoded < 0)
                    return fail(PathError::bad_escape);
                c = static_cast<unsigned char>(decoded);
                i += 2;
                if (c == '/' || c == '\\' || (c == '%' && keep_escapes)) {
                    if (!keep_escapes)
                        return fail(PathError::encoded_slash);
                    if (c != '%' && is_dot_segment(std::string_view(out).substr(piece_start)))
                        return fail(PathError::dot_segment);
                    out.append(c == '/' ? "%2F" : c == '%' ? "%25" : "%5C");
                    if (c != '%')
                        piece_start = out.size();
                    continue;
                }
            } else if (c == '\\') {
                return fail(PathError::backslash);
            }
            if (is_control(c))
                return fail(PathError::control_char);
            out.push_back(static_cast<char>(c));
        }
        if (is_dot_segment(std::string_view(out).substr(piece_start)))
            return fail(PathError::dot_segment);
    }
    if (raw.back() == '/' && out.back() != '/')
        out.push_back('/');
    return PathError::none;
}

}  // namespace

NormalisedPath normalise_path(std::string_view raw, std::string& out, EncodedSlashes slashes)
{
    out.clear();
    if (raw.empty() || raw.front() != '/')
        return {PathError::not_absolute, false};
    if (already_normal(raw)) {
        out.assign(raw);
        return {};
    }
    const bool escaped = slashes == EncodedSlashes::keep && has_encoded_slash(raw);
    const PathError error = normalise(raw, out, escaped);
    return {error, escaped && error == PathError::none};
}

PathError normalise_path(std::string_view raw, std::string& out)
{
    return normalise_path(raw, out, EncodedSlashes::refuse).error;
}

void unescape_kept(std::string_view escaped, std::string& out)
{
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '%' && escaped.size() - i >= 3) {
            out.push_back(static_cast<char>(decode_escape(escaped, i)));
            i += 2;
        } else {
            out.push_back(escaped[i]);
        }
    }
}

bool percent_decode(std::string_view in, std::string& out, bool plus_as_space)
{
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            const int decoded = decode_escape(in, i);
            if (decoded < 0) {
                out.clear();
                return false;
            }
            out.push_back(static_cast<char>(decoded));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
    if (target.front() != '/') {
        std::size_t scheme = target.find("://");
        if (scheme != std::string_view::npos && target.find_first_of("/?#") > scheme) {
            std::size_t slash = target.find('/', scheme + 3);
            target = slash == std::string_view::npos ? target.substr(target.size()) : target.substr(slash);
        }
    }
    target = target.substr(0, target.find('#'));
    std::size_t q = target.find('?');
    path = target.substr(0, q);
    query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}


}  // namespace kerberus::http
