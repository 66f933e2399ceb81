// fuzz_route_table: route registration and matching (host/http/route_table),
// which every request's normalised path goes through.
//
// Input: lines "METHOD PATTERN" registered in order, a line "--", then
// lines "METHOD PATH" matched. Findings, besides any sanitizer report:
//   - a match whose parameter values do not lie inside the path matched;
//   - a found target that was never registered;
//   - a result that differs when the same path is matched again;
//   - a literal route not found for its own pattern as the path.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/route_table.h"

namespace {

using kerberus::http::AddResult;
using kerberus::http::MatchResult;
using kerberus::http::RouteParams;
using kerberus::http::RouteTable;

void finding(const char* what, std::string_view detail) {
    std::fprintf(stderr, "\n==== FINDING: %s: '%.*s'\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    return lines;
}

bool literal(std::string_view pattern) {
    return pattern.find(':') == std::string_view::npos && pattern.find('*') == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size > 4096) return 0;
    RouteTable table;
    std::vector<std::pair<std::string, std::string>> added;  // method, pattern
    bool matching = false;
    for (std::string_view line : lines_of(std::string_view(reinterpret_cast<const char*>(data), size))) {
        if (line == "--") {
            matching = true;
            continue;
        }
        std::size_t space = line.find(' ');
        if (space == std::string_view::npos) continue;
        std::string_view method = line.substr(0, space), rest = line.substr(space + 1);
        if (!matching) {
            if (added.size() >= 64) continue;
            if (table.add(method, rest, added.size()) == AddResult::ok) added.emplace_back(method, rest);
            continue;
        }
        // Paths reach the table normalised: absolute, no empty segments.
        if (rest.empty() || rest.front() != '/' || rest.find("//") != std::string_view::npos) continue;
        RouteParams params;
        MatchResult first = table.match(method, rest, params);
        if (first.kind == MatchResult::Kind::found) {
            if (first.target >= added.size()) finding("a target that was never registered", line);
            for (std::size_t i = 0; i < params.count; ++i) {
                std::string_view v = params.items[i].value;
                if (!v.empty() && (v.data() < rest.data() || v.data() + v.size() > rest.data() + rest.size()))
                    finding("a parameter outside the path", line);
            }
        }
        RouteParams again_params;
        MatchResult again = table.match(method, rest, again_params);
        if (again.kind != first.kind || again.target != first.target || again.allow != first.allow ||
            again_params.count != params.count)
            finding("matching twice gives two answers", line);
    }
    // Every literal route answers its own pattern (unless an earlier route
    // of the same method and shape took it: add() refuses that as a conflict).
    for (std::size_t i = 0; i < added.size(); ++i) {
        const auto& [method, pattern] = added[i];
        if (!literal(pattern) || method == "*" || pattern.find("//") != std::string::npos) continue;
        RouteParams params;
        MatchResult m = table.match(method, pattern, params);
        if (m.kind != MatchResult::Kind::found) finding("a literal route does not match its own pattern", pattern);
    }
    return 0;
}
