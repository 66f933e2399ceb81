#include "http/route_table.h"

#include <algorithm>

namespace kerberus::http {
namespace {

bool is_method_token(std::string_view method)
{
    if (method == "*")
        return true;
    if (method.empty())
        return false;
    constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
    for (char c : method) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || kSymbols.find(c) != std::string_view::npos;
        if (!ok)
            return false;
    }
    return true;
}

// Why `name` (after ':') cannot name a parameter; empty when it can.
std::string param_name_problem(std::string_view name)
{
    if (name.empty())
        return "':' must be followed by the parameter's name, as in :id";
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (ok)
            continue;
        if (c == '?')
            return "optional parameters (:" + std::string(name) +
                   ") are not supported: register the route with and without the segment";
        return "parameter names are letters, digits and '_' (:" + std::string(name) + " has '" + std::string(1, c) + "')";
    }
    return {};
}

// Why a literal segment could never match a request path as written;
// empty when it can. Requests are matched decoded and normalised, so a
// character clients must percent-encode (RFC 3986 3.3) never appears in a
// pattern, and neither does '%'.
std::string literal_problem(std::string_view text)
{
    if (text == "." || text == "..")
        return "a '.' or '..' segment never survives path normalisation";
    if (text.find('*') != std::string_view::npos)
        return "'*' stands alone as the last segment (for a named parameter, write :name)";
    if (text.front() == '{' && text.back() == '}')
        return "'{" + std::string(text.substr(1, text.size() - 2)) + "}' is not a parameter here: write :" +
               std::string(text.substr(1, text.size() - 2));
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80)
            continue;  // UTF-8 text, matched against the decoded path
        if (u < 0x20 || u == 0x7f)
            return "a control character";
        if (std::string_view(" \"#%<>?[\\]^`{|}").find(c) != std::string_view::npos) {
            return std::string("'") + c + "' is not a path character: clients send it percent-encoded" +
                   (c == '%' ? " (write the decoded character)" : "");
        }
    }
    return {};
}

// How well a route's method serves a request's; 0 = not at all.
int method_rank(std::string_view route_method, std::string_view request_method)
{
    if (route_method == request_method)
        return 3;
    if (request_method == "HEAD" && route_method == "GET")
        return 2;
    if (route_method == "*")
        return 1;
    return 0;
}

// Segments a normalised path has: '/' count, a trailing '/' not counting.
std::size_t count_segments(std::string_view path)
{
    const auto slashes = static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
    return path.back() == '/' ? slashes - 1 : slashes;
}

}  // namespace

std::string RouteTable::parse_pattern(std::string_view pattern, std::vector<Segment>& out)
{
    if (pattern.empty() || pattern.front() != '/')
        return "a pattern starts with '/'";
    if (pattern == "/")
        return {};
    if (pattern.back() == '/')
        pattern.remove_suffix(1);
    std::string_view body = pattern.substr(1);
    std::size_t params = 0;
    for (;;) {
        const std::size_t slash = body.find('/');
        const std::string_view text = body.substr(0, slash);
        const bool last = slash == std::string_view::npos;
        if (text.empty())
            return "an empty segment ('//'): paths are normalised, so it could never match";
        if (text == "*") {
            if (!last)
                return "'*' takes the rest of the path, so it can only be the last segment";
            out.push_back({Segment::Kind::rest, "*"});
            ++params;
        } else if (text.front() == ':') {
            const std::string_view name = text.substr(1);
            if (std::string why = param_name_problem(name); !why.empty())
                return why;
            for (const Segment& s : out)
                if (s.kind == Segment::Kind::param && s.text == name)
                    return "parameter :" + std::string(name) + " appears twice";
            out.push_back({Segment::Kind::param, std::string(name)});
            ++params;
        } else {
            if (std::string why = literal_problem(text); !why.empty())
                return why;
            out.push_back({Segment::Kind::literal, std::string(text)});
        }
        if (params > RouteParams::kMaxParams)
            return "more than " + std::to_string(RouteParams::kMaxParams) + " parameters";
        if (last)
            return {};
        body.remove_prefix(slash + 1);
    }
}

// Lexicographic by segment: literal < param < rest, a route that ends sorts
// before one that continues. For two routes matching the same path, the first
// difference is therefore literal/param/rest or end/rest, and the smaller one
// is the more specific. Literal text only makes the order total.
std::strong_ordering RouteTable::compare_shape(const Route& a, const Route& b)
{
    const std::size_t n = std::min(a.segments.size(), b.segments.size());
    for (std::size_t i = 0; i < n; ++i) {
        const Segment& x = a.segments[i];
        const Segment& y = b.segments[i];
        if (x.kind != y.kind)
            return x.kind <=> y.kind;
        if (x.kind == Segment::Kind::literal)
            if (const auto c = x.text <=> y.text; c != 0)
                return c;
    }
    return a.segments.size() <=> b.segments.size();
}

AddResult RouteTable::add(std::string_view method, std::string_view pattern, std::size_t target, std::string* why)
{
    if (!is_method_token(method))
        return AddResult::invalid_method;
    Route route{std::string(method), std::string(pattern), {}, target};
    if (std::string problem = parse_pattern(pattern, route.segments); !problem.empty()) {
        if (why != nullptr)
            *why = std::move(problem);
        return AddResult::invalid_pattern;
    }
    route.has_rest = !route.segments.empty() && route.segments.back().kind == Segment::Kind::rest;
    route.fixed_segments = route.segments.size() - (route.has_rest ? 1 : 0);

    for (const Route& r : routes_)
        if (r.method == route.method && compare_shape(r, route) == 0)
            return AddResult::conflict;

    const auto before = [](const Route& a, const Route& b) {
        if (const auto c = compare_shape(a, b); c != 0)
            return c < 0;
        return a.method != "*" && b.method == "*";
    };
    routes_.insert(std::upper_bound(routes_.begin(), routes_.end(), route, before), std::move(route));
    for (std::size_t i = 1; i < routes_.size(); ++i)
        routes_[i].shape = routes_[i - 1].shape + (compare_shape(routes_[i - 1], routes_[i]) != 0 ? 1 : 0);
    return AddResult::ok;
}

bool RouteTable::path_matches(const Route& route, std::string_view path, std::size_t path_segments,
                              RouteParams* params)
{
    if (route.has_rest ? path_segments < route.fixed_segments : path_segments != route.fixed_segments)
        return false;
    // `at` is always on the '/' before the next segment, or at the end.
    std::size_t at = 0;
    for (const Segment& s : route.segments) {
        if (s.kind == Segment::Kind::rest) {
            if (params)
                params->items[params->count++] = {s.text, at < path.size() ? path.substr(at + 1) : std::string_view{}};
            return true;
        }
        if (at >= path.size())
            return false;
        const std::size_t begin = at + 1;
        const std::size_t end = std::min(path.find('/', begin), path.size());
        if (end == begin)
            return false;
        const std::string_view value = path.substr(begin, end - begin);
        if (s.kind == Segment::Kind::literal && value != s.text)
            return false;
        if (s.kind == Segment::Kind::param && params)
            params->items[params->count++] = {s.text, value};
        at = end;
    }
    return at == path.size() || at + 1 == path.size();
}

MatchResult RouteTable::match(std::string_view method, std::string_view path, RouteParams& params) const
{
    MatchResult result;
    params.clear();
    if (path.empty() || path.front() != '/')
        return result;
    const std::size_t segments = count_segments(path);

    const Route* best = nullptr;
    int best_rank = 0;
    bool path_known = false;
    for (const Route& r : routes_) {
        if (best && r.shape != best->shape)
            break;
        if (!path_matches(r, path, segments, nullptr))
            continue;
        path_known = true;
        if (const int rank = method_rank(r.method, method); rank > best_rank) {
            best = &r;
            best_rank = rank;
        }
    }
    if (best) {
        path_matches(*best, path, segments, &params);
        result.kind = MatchResult::Kind::found;
        result.target = best->target;
        return result;
    }
    if (!path_known)
        return result;

    // No route matching the path is "*" (it would have accepted), so every
    // method here is a concrete token.
    std::vector<std::string_view> allowed;
    for (const Route& r : routes_) {
        if (!path_matches(r, path, segments, nullptr))
            continue;
        allowed.push_back(r.method);
        if (r.method == "GET")
            allowed.push_back("HEAD");
    }
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    result.kind = MatchResult::Kind::method_not_allowed;
    for (std::string_view m : allowed) {
        if (!result.allow.empty())
            result.allow += ", ";
        result.allow += m;
    }
    return result;
}

}  // namespace kerberus::http
