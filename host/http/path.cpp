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

PathError normalise_path(std::string_view raw, std::string& out)
{
    out.clear();
    if (raw.empty() || raw.front() != '/')
        return PathError::not_absolute;
    if (already_normal(raw)) {
        out.assign(raw);
        return PathError::none;
    }
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
        // why a decoded '/' has to be refused rather than kept.
        if (out.back() != '/')
            out.push_back('/');
        const std::size_t segment_start = out.size();
        for (; i < raw.size() && raw[i] != '/'; ++i) {
            unsigned char c = static_cast<unsigned char>(raw[i]);
            if (c == '%') {
                const int decoded = decode_escape(raw, i);
                if (decoded < 0)
                    return fail(PathError::bad_escape);
                c = static_cast<unsigned char>(decoded);
                if (c == '/' || c == '\\')
                    return fail(PathError::encoded_slash);
                i += 2;
            } else if (c == '\\') {
                return fail(PathError::backslash);
            }
            if (is_control(c))
                return fail(PathError::control_char);
            out.push_back(static_cast<char>(c));
        }
        const std::string_view segment = std::string_view(out).substr(segment_start);
        if (segment == "." || segment == "..")
            return fail(PathError::dot_segment);
    }
    if (raw.back() == '/' && out.back() != '/')
        out.push_back('/');
    return PathError::none;
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

}  // namespace kerberus::http
