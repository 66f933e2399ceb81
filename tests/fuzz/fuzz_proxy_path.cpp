// fuzz_proxy_path: the proxy plugin's way from a request to an upstream URL
// (plugins/proxy/path_mapping): endpoint matching, unsafe_path_reason and
// upstream_url with pathRewrite rules, on endpoints read by parse_config
// exactly as the plugin reads its configuration.
//
// Input (text): lines configuring endpoints, a line "--", then one
// request-target per line.
//   KEY TARGET                an endpoint: its key, one space, its target URL
//   >T REPLACEMENT            a pathRewrite rule of the endpoint above, its
//                             pattern made from the endpoint's key:
//                               p  ^/api/proxy<key>/   (Backstage's own example)
//                               k  ^/api/proxy<key>
//                               c  ^/api/proxy<key>/(.*)$
//                               s  ^/api/proxy<key>/([^/]+)/(.*)$
//                               d  ^/api/proxy<key>((?:/[^/]*)*)$
//   >r PATTERN<TAB>REPLACEMENT  a rule with a pattern of its own
// In a request-target "{N}" makes N copies in all of the byte before it,
// "{N,K}" of the K bytes before it, up to kMaxPathBytes in all, so that a
// short input reaches the longest paths the proxy maps. A configuration
// parse_config refuses is skipped, as the plugin would fail to start.
//
// Each target goes through the proxy's handler twice: as the daemon hands
// it over (the request parser's bytes only, normalised, under /api/proxy),
// and as raw bytes with no daemon in front, which the proxy's own checks
// must make safe. Findings (each aborts with a "==== FINDING:" line),
// besides sanitizer reports, a crash (std::regex's recursion running out
// of stack) and a hang:
//   - an endpoint other than the one with the longest matching key;
//   - a path the daemon let through that unsafe_path_reason refuses (its
//     header says the daemon refuses those already);
//   - a URL that does not start with the target's scheme and authority
//     followed by '/', '?' or nothing (the request chose the host), or
//     with the target's path likewise (it climbed out of it);
//   - a URL byte that is a control character, a space, non-ASCII, '#' or
//     '\';
//   - without pathRewrite: a forwarded path below the target's with "//"
//     or that the daemon's normaliser or unsafe_path_reason refuses, or
//     (from the daemon) one that does not normalise to the path below the
//     endpoint's key; a query from nowhere, lost, or not starting with the
//     target's own.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "finding.h"
#include "endpoint_config.h"
#include "http/path.h"
#include "path_mapping.h"

using kerberus::fuzz::finding;
using kerberus::fuzz::quoted;

namespace {

using proxy::Endpoint;

// Patterns of an input's own are the operator's, and std::regex
// backtracks: with a quantified group, or more than one quantifier, a long
// path takes exponential or polynomial time whatever path_mapping does.
// The target keeps to patterns that cannot, and maps only short
// request-targets for a configuration that has any.
constexpr std::size_t kMaxOwnPattern = 32;
constexpr std::size_t kShortTarget = 256;
constexpr std::size_t kMaxEndpoints = 8;
constexpr std::size_t kMaxRules = 4;
constexpr std::size_t kMaxTargets = 16;


std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    return lines;
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\u%04x", u);
            out += hex;
        } else {
            out += c;
        }
    }
    out += '"';
}

std::string regex_literal(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (std::string_view("^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

bool tame(std::string_view pattern) {
    if (pattern.size() > kMaxOwnPattern) return false;
    int quantifiers = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;
            continue;
        }
        const bool quantifier = c == '*' || c == '+' || c == '{' || (c == '?' && (i == 0 || pattern[i - 1] != '('));
        if (!quantifier) continue;
        if (i > 0 && pattern[i - 1] == ')') return false;
        if (++quantifiers > 1) return false;
    }
    return true;
}

struct Spec {
    std::string key, target;
    std::vector<std::pair<std::string, std::string>> rules;  // pattern, replacement
};

// "{N}": N copies in all of the byte before it; "{N,K}": of the K bytes
// before it (K at most 8). Copies stop at `fill` bytes, so that a large N
// gives the longest path the proxy maps; other bytes go on up to `limit`.
std::string expand(std::string_view line, std::size_t fill, std::size_t limit) {
    std::string out;
    for (std::size_t i = 0; i < line.size() && out.size() <= limit; ++i) {
        const std::size_t close = line[i] == '{' ? line.find('}', i) : std::string_view::npos;
        if (close == std::string_view::npos || close - i > 9) {
            out += line[i];
            continue;
        }
        const std::string_view spec = line.substr(i + 1, close - i - 1);
        std::size_t n = 0, k = 1, *number = &n;
        bool valid = !spec.empty() && spec.front() != ',' && spec.back() != ',';
        for (char c : spec) {
            if (c == ',' && number == &n) {
                number = &k;
                k = 0;
            } else if (c >= '0' && c <= '9') {
                *number = *number * 10 + static_cast<std::size_t>(c - '0');
            } else {
                valid = false;
            }
        }
        if (!valid || n == 0 || k == 0 || k > 8 || k > out.size()) {
            out += line[i];
            continue;
        }
        const std::string unit = out.substr(out.size() - k);
        for (std::size_t copy = 1; copy < n && out.size() < fill; ++copy) {
            out.append(unit, 0, std::min(unit.size(), fill - out.size()));
        }
        i = close;
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

const Endpoint* longest_match(const std::vector<Endpoint>& endpoints, std::string_view path) {
    const Endpoint* best = nullptr;
    for (const Endpoint& e : endpoints) {
        const bool matches = path == e.key || (starts_with(path, e.key) && path.size() > e.key.size() &&
                                               path[e.key.size()] == '/');
        if (matches && (best == nullptr || e.key.size() > best->key.size())) best = &e;
    }
    return best;
}

struct Request {
    std::string_view target;  // the whole request-target
    std::string_view raw_path, query;
    std::string_view relative;  // what request_path() gives the proxy
    bool from_daemon = false;
};

std::string describe(const Request& r, const Endpoint* ep) {
    std::string out = (r.from_daemon ? "from the daemon" : "raw bytes, no daemon in front");
    out += "\n  target   " + quoted(r.target) + "\n  raw path " + quoted(r.raw_path) + "\n  query    " +
           quoted(r.query) + "\n  path     " + quoted(r.relative) + "\n";
    if (ep != nullptr) {
        out += "  endpoint " + quoted(ep->key) + " -> " + quoted(ep->target.base) + " query " +
               quoted(ep->target.query) + ", " + std::to_string(ep->path_rewrite.size()) + " rewrite rules\n";
    }
    return out;
}

void check_url(const Request& r, const Endpoint& ep, const std::string& url) {
    auto fail = [&](const char* what) { finding(what, describe(r, &ep) + "  URL      " + quoted(url)); };
    const std::string& base = ep.target.base;
    const std::string_view scheme = starts_with(base, "https://") ? "https://" : "http://";
    const std::string origin = std::string(scheme) + ep.target.authority;
    if (!starts_with(base, origin)) fail("a target whose base does not start with its scheme and authority");
    auto ends_a_prefix = [&](std::size_t at) { return at == url.size() || url[at] == '/' || url[at] == '?'; };
    if (!starts_with(url, origin) || !ends_a_prefix(origin.size())) {
        fail("the URL does not start with the target's scheme and authority");
    }
    for (char c : url) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '#' || c == '\\') fail("a URL byte that no URL may hold as it is");
    }
    std::string_view trimmed = base;
    while (trimmed.size() > origin.size() && trimmed.back() == '/') trimmed.remove_suffix(1);
    if (!starts_with(url, trimmed) || !ends_a_prefix(trimmed.size())) fail("the URL leaves the target's path");
    if (!ep.path_rewrite.empty()) return;

    const std::size_t q = url.find('?', trimmed.size());
    const std::string_view path = std::string_view(url).substr(0, q);
    const std::string_view query = q == std::string::npos ? std::string_view() : std::string_view(url).substr(q + 1);
    if ((q != std::string::npos) != (!ep.target.query.empty() || !r.query.empty())) fail("a query from nowhere, or lost");
    if (!starts_with(query, ep.target.query)) fail("the query does not start with the target's own");
    const std::string_view tail = path.substr(trimmed.size());
    // The daemon's normaliser judges the forwarded path independently of
    // the proxy's own check: it refuses the same dot pieces, also between
    // encoded slashes, control characters and malformed escapes.
    std::string normal;
    const auto n = kerberus::http::normalise_path(tail, normal, kerberus::http::EncodedSlashes::keep);
    if (path != base) {
        if (tail.empty() || tail.front() != '/') fail("the forwarded path is not joined with '/'");
        if (tail.find("//") != std::string_view::npos) fail("a run of '/' in the forwarded path");
        if (n.error != kerberus::http::PathError::none) fail("a forwarded path the daemon would refuse");
        if (proxy::unsafe_path_reason(tail) != nullptr) fail("a forwarded path the proxy would refuse");
    }
    if (!r.from_daemon) return;
    const std::string_view below = r.relative.substr(ep.key.size());
    if (below.empty()) {
        if (path != base) fail("a path below the key that is not there");
        return;
    }
    if (n.error != kerberus::http::PathError::none || normal != below) {
        fail("the forwarded path is not the one below the endpoint's key");
    }
}

// What the proxy's handler does with one request, up to the URL.
void handle(const std::vector<Endpoint>& endpoints, const Request& r) {
    const Endpoint* ep = proxy::match_endpoint(endpoints, r.relative);
    if (ep != longest_match(endpoints, r.relative)) {
        finding("match_endpoint chose another endpoint than the longest matching key", describe(r, ep));
    }
    if (ep == nullptr) return;                                // 404
    if (r.raw_path.size() > proxy::kMaxPathBytes) return;     // 414
    if (const char* why = proxy::unsafe_path_reason(r.raw_path)) {  // 400: never forwarded
        if (r.from_daemon) {
            finding("unsafe_path_reason refuses a path the daemon let through", describe(r, ep) + "  reason   " + why);
        }
        return;
    }
    check_url(r, *ep, proxy::upstream_url(*ep, r.raw_path, r.query));
}

// The request-target's path and query, in origin form ("/p?q"); a fragment
// is cut off, as the daemon does for a broken client that sends one.
void split(std::string_view target, std::string_view& path, std::string_view& query) {
    target = target.substr(0, target.find('#'));
    const std::size_t q = target.find('?');
    path = target.substr(0, q);
    query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

bool request_parser_accepts(std::string_view target) {
    for (char c : target) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) return false;
    }
    return true;
}

constexpr std::string_view kMount = proxy::kMountPath;

// The daemon's dispatcher: normalise, then /api/<plugin>/..., the plugin
// seeing the rest ("/" for nothing).
void from_daemon(const std::vector<Endpoint>& endpoints, std::string_view target) {
    if (target.front() != '/' || !request_parser_accepts(target)) return;
    Request r{target, {}, {}, {}, true};
    split(target, r.raw_path, r.query);
    std::string normal;
    const auto n = kerberus::http::normalise_path(r.raw_path, normal, kerberus::http::EncodedSlashes::keep);
    if (n.error != kerberus::http::PathError::none) return;
    if (!starts_with(normal, kMount) || (normal.size() > kMount.size() && normal[kMount.size()] != '/')) return;
    r.relative = normal.size() == kMount.size() ? std::string_view("/") : std::string_view(normal).substr(kMount.size());
    handle(endpoints, r);
}

void without_daemon(const std::vector<Endpoint>& endpoints, std::string_view target) {
    Request r{target, {}, {}, {}, false};
    split(target, r.raw_path, r.query);
    r.relative = r.raw_path;
    if (starts_with(r.relative, kMount)) r.relative.remove_prefix(kMount.size());
    handle(endpoints, r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::vector<std::string_view> lines = lines_of(std::string_view(reinterpret_cast<const char*>(data), size));
    std::vector<Spec> specs;
    std::set<std::string, std::less<>> keys;
    bool own_patterns = false;
    std::size_t i = 0;
    for (; i < lines.size() && lines[i] != "--"; ++i) {
        const std::string_view line = lines[i];
        if (line.size() >= 2 && line[0] == '>') {
            if (specs.empty() || specs.back().rules.size() >= kMaxRules) continue;
            Spec& spec = specs.back();
            const std::string_view rest = line.substr(2).substr(line.size() > 2 && line[2] == ' ' ? 1 : 0);
            const std::string prefix = "^" + regex_literal(kMount) + regex_literal(spec.key);
            std::string pattern;
            std::string_view replacement = rest;
            switch (line[1]) {
                case 'p': pattern = prefix + "/"; break;
                case 'k': pattern = prefix; break;
                case 'c': pattern = prefix + "/(.*)$"; break;
                case 's': pattern = prefix + "/([^/]+)/(.*)$"; break;
                case 'd': pattern = prefix + "((?:/[^/]*)*)$"; break;
                case 'r': {
                    const std::size_t tab = rest.find('\t');
                    pattern.assign(rest.substr(0, tab));
                    replacement = tab == std::string_view::npos ? std::string_view() : rest.substr(tab + 1);
                    if (!tame(pattern)) continue;
                    own_patterns = true;
                    break;
                }
                default: continue;
            }
            spec.rules.emplace_back(std::move(pattern), std::string(replacement));
            continue;
        }
        const std::size_t space = line.find(' ');
        if (space == std::string_view::npos || specs.size() >= kMaxEndpoints) continue;
        const std::string_view key = line.substr(0, space);
        if (keys.contains(key)) continue;  // a JSON object with a key twice is not a configuration
        keys.emplace(key);
        specs.push_back({std::string(key), std::string(line.substr(space + 1)), {}});
    }

    std::string json = "{\"endpoints\":{";
    for (std::size_t e = 0; e < specs.size(); ++e) {
        if (e > 0) json += ',';
        append_json_string(json, specs[e].key);
        json += ":{\"target\":";
        append_json_string(json, specs[e].target);
        if (!specs[e].rules.empty()) {
            json += ",\"pathRewrite\":{";
            for (std::size_t k = 0; k < specs[e].rules.size(); ++k) {
                if (k > 0) json += ',';
                append_json_string(json, specs[e].rules[k].first);
                json += ':';
                append_json_string(json, specs[e].rules[k].second);
            }
            json += '}';
        }
        json += '}';
    }
    json += "}}";
    proxy::ProxyConfig config;
    try {
        config = proxy::parse_config(json);
    } catch (const proxy::ConfigError&) {
        return 0;
    }

    const std::size_t fill = own_patterns ? kShortTarget : proxy::kMaxPathBytes;
    const std::size_t limit = fill + 64;  // past kMaxPathBytes: 414
    std::size_t targets = 0;
    for (++i; i < lines.size() && targets < kMaxTargets; ++i) {
        const std::string target = expand(lines[i], fill, limit);
        if (target.empty() || target.size() > limit) continue;
        ++targets;
        from_daemon(config.endpoints, target);
        without_daemon(config.endpoints, target);
    }
    return 0;
}
