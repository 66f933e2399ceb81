// One plugin's routes: method + pattern -> target. Built during the plugin's
// init, then only read (concurrently, without locks).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kerberus::http {

// Route parameters found by a match. Views point into the path given to
// match(); at most kMaxParams (more fail registration).
struct RouteParams {
    static constexpr std::size_t kMaxParams = 16;
    struct Param {
        std::string_view name;   // without ':'; "*" for the wildcard
        std::string_view value;  // a view into the matched path
    };
    std::array<Param, kMaxParams> items{};
    std::size_t count = 0;
    void clear() { count = 0; }
};

enum class AddResult { ok, conflict, invalid_pattern, invalid_method };

struct MatchResult {
    enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
    std::size_t target = 0;  // index handed to add() (when found)
    std::string allow;       // "GET, HEAD, POST" (when method_not_allowed)
};

class RouteTable {
public:
    // method: an uppercase token ("GET") or "*" for any. pattern: see
    // kerberus_host_api::route_add. `target` is an opaque index the caller
    // maps to its handler. Patterns that could never match a normalised path
    // (a "." or ".." segment, '\\' or control characters, '*' inside a
    // segment) or repeat a parameter name are invalid.
    // `why` (when given) receives what is wrong with an invalid pattern.
    AddResult add(std::string_view method, std::string_view pattern, std::size_t target, std::string* why = nullptr);

    // `path` is relative to the plugin prefix, normalised, starting with '/'.
    // Precedence: literal segment > :param > trailing *; then exact method >
    // "*"; HEAD falls back to GET. Allocation-free when found.
    // A trailing '/' is insignificant on both sides, except that the "*"
    // value keeps it ("/files/*" on "/files/a/" gives "a/"). For HEAD, a
    // GET route beats a "*" route of the same shape. method_not_allowed lists
    // every route whose pattern matches, whatever its shape.
    MatchResult match(std::string_view method, std::string_view path, RouteParams& params) const;

    bool empty() const { return routes_.empty(); }

private:
    struct Segment {
        enum class Kind { literal, param, rest } kind;
        std::string text;  // literal text or parameter name
    };
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<Segment> segments;
        std::size_t target;
        std::size_t fixed_segments = 0;  // segments before a trailing '*'
        bool has_rest = false;
        std::size_t shape = 0;  // equal for neighbours of the same shape
    };

    // What is wrong with `pattern`; empty when it parsed into `out`.
    static std::string parse_pattern(std::string_view pattern, std::vector<Segment>& out);
    static std::strong_ordering compare_shape(const Route& a, const Route& b);
    static bool path_matches(const Route& route, std::string_view path, std::size_t path_segments,
                             RouteParams* params);

    // Sorted most specific first (compare_shape, then exact method before
    // "*"), so the first shape with a route accepting the method wins.
    std::vector<Route> routes_;
};

}  // namespace kerberus::http
