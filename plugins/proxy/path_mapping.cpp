#include "path_mapping.h"

#include <algorithm>
#include <regex>

namespace proxy {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Bytes a URL cannot carry as they are (RFC 3986 has no place for them);
// '#' would end the path and begin a fragment.
bool needs_escape(unsigned char c) noexcept {
    switch (c) {
        case '"': case '#': case '<': case '>': case '\\': case '^': case '`': case '{': case '|': case '}':
            return true;
        default:
            return c <= 0x20 || c >= 0x7f;
    }
}

void append_escaped(std::string& out, char c) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    auto u = static_cast<unsigned char>(c);
    if (!needs_escape(u)) {
        out.push_back(c);
        return;
    }
    out.push_back('%');
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xF]);
}

// Appends `path` with its leading '/'s dropped and each inner run of '/'
// made one; with `escape`, bytes no URL may hold percent-encoded.
void append_path_tail(std::string& out, std::string_view path, bool escape = true) {
    bool after_slash = true;
    for (char c : path) {
        if (c == '/') {
            if (!after_slash) out.push_back('/');
            after_slash = true;
            continue;
        }
        after_slash = false;
        if (escape) {
            append_escaped(out, c);
        } else {
            out.push_back(c);
        }
    }
}

// base + '/' + path, with exactly one '/' between them; `base` as it is
// when `path` is empty.
void append_joined(std::string& out, std::string_view base, std::string_view path) {
    if (path.empty()) {
        out.append(base);
        return;
    }
    // The authority always ends before the path, so this never eats into
    // "http://".
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    out.append(base);
    out.push_back('/');
    append_path_tail(out, path);
}

// The raw path after its first `segments` non-empty segments: "/x/y" for
// ("/api/proxy/simple/x/y", 3). Segment boundaries are the raw '/'s, which
// is how the daemon split the decoded path the endpoint was matched on.
std::string_view raw_rest(std::string_view raw, std::size_t segments) noexcept {
    std::size_t i = 0;
    while (segments > 0 && i < raw.size()) {
        while (i < raw.size() && raw[i] == '/') ++i;
        if (i == raw.size()) break;
        while (i < raw.size() && raw[i] != '/') ++i;
        --segments;
    }
    return raw.substr(i);
}

// Backstage's rules (http-proxy-middleware): the first rule whose regex
// matches rewrites its first match; no match leaves the path as it is.
std::string rewrite(const std::vector<RewriteRule>& rules, const std::string& path) {
    std::smatch match;
    for (const RewriteRule& rule : rules) {
        if (!std::regex_search(path, match, rule.pattern)) continue;
        std::string out(match.prefix().first, match.prefix().second);
        out += match.format(rule.replacement);
        out.append(match.suffix().first, match.suffix().second);
        return out;
    }
    return path;
}

}  // namespace

const Endpoint* match_endpoint(const std::vector<Endpoint>& endpoints, std::string_view path) noexcept {
    // Keys never end with '/', so each candidate is `path` cut at a '/'.
    std::string_view candidate = path;
    for (;;) {
        auto it = std::lower_bound(endpoints.begin(), endpoints.end(), candidate,
                                   [](const Endpoint& e, std::string_view key) { return e.key < key; });
        if (it != endpoints.end() && it->key == candidate) return &*it;
        std::size_t slash = candidate.rfind('/');
        if (slash == 0 || slash == std::string_view::npos) return nullptr;
        candidate = candidate.substr(0, slash);
    }
}

const char* unsafe_path_reason(std::string_view raw) noexcept {
    // Pieces end at '/' and at an encoded '/' or '\': an upstream that
    // decodes those would resolve a "." or ".." between them.
    std::size_t piece_length = 0;
    bool only_dots = true;
    auto dot_piece = [&] {
        bool dots = only_dots && piece_length >= 1 && piece_length <= 2;
        piece_length = 0;
        only_dots = true;
        return dots;
    };
    for (std::size_t i = 0; i < raw.size(); ++i) {
        auto c = static_cast<unsigned char>(raw[i]);
        bool separator = c == '/';
        if (c == '%') {
            if (raw.size() - i < 3) return "malformed percent-escape in path";
            int hi = hex_value(raw[i + 1]);
            int lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0) return "malformed percent-escape in path";
            c = static_cast<unsigned char>(hi * 16 + lo);
            separator = c == '/' || c == '\\';
            i += 2;
        } else if (c == '\\') {
            return "'\\' in path";
        }
        if (separator) {
            if (dot_piece()) return "'.' or '..' segment in path";
            continue;
        }
        if (c < 0x20 || c == 0x7f) return "control character in path";
        only_dots = only_dots && c == '.';
        ++piece_length;
    }
    if (dot_piece()) return "'.' or '..' segment in path";
    return nullptr;
}

std::string upstream_url(const Endpoint& ep, std::string_view raw_path, std::string_view query) {
    // The mount point's two segments, then the key's.
    std::string_view rest = raw_rest(raw_path, 2 + ep.key_segments);
    const TargetUrl& target = ep.target;
    std::string url;
    url.reserve(target.base.size() + rest.size() + target.query.size() + query.size() + 2);
    if (ep.path_rewrite.empty()) {
        append_joined(url, target.base, rest);
    } else {
        std::string incoming;
        incoming.reserve(kMountPath.size() + ep.key.size() + rest.size());
        incoming.append(kMountPath);
        incoming.append(ep.key);
        if (!rest.empty()) {
            incoming.push_back('/');
            // The rules see the bytes as the client sent them, as Backstage's
            // do; append_joined escapes what they make. Escaping first would
            // let a path of '|' or '"' triple in length, past what
            // kMaxPathBytes bounds for std::regex's recursion.
            append_path_tail(incoming, rest, false);
        }
        append_joined(url, target.base, rewrite(ep.path_rewrite, incoming));
    }
    if (!target.query.empty() || !query.empty()) {
        url.push_back('?');
        url.append(target.query);
        if (!target.query.empty() && !query.empty()) url.push_back('&');
        for (char c : query) append_escaped(url, c);
    }
    return url;
}

}  // namespace proxy
