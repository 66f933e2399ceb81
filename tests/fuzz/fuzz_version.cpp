// fuzz_version: plugin versions and the constraints operators pin them with
// (host/common/semver.cpp), which every plugin file name and every
// plugins.<id>.version setting goes through.
//
// Input: a constraint on the first line, versions on the lines after it.
// Findings, besides any sanitizer report:
//   - a version that does not survive str() and parse() unchanged;
//   - an order that is not one: a<b and b<a, or a==b disagreeing with <=>;
//   - a constraint whose str() parses to one that matches differently;
//   - a release v not matched by "=v", ">=v", "^v", "~v", "<=v", or
//     matched by "<v" or ">v" (ranges from a part at 2^64-1 are refused,
//     as documented, so those are skipped).
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/semver.h"

namespace {

using kerberus::Version;
using kerberus::VersionConstraint;

void finding(const char* what, std::string_view a, std::string_view b = {}) {
    std::fprintf(stderr, "\n==== FINDING: %s: '%.*s' '%.*s'\n", what, static_cast<int>(a.size()), a.data(),
                 static_cast<int>(b.size()), b.data());
    std::abort();
}

bool matches(std::string_view constraint, const Version& v) {
    std::optional<VersionConstraint> c = VersionConstraint::parse(constraint);
    if (!c) finding("a constraint made from a valid version does not parse", constraint, v.str());
    return c->matches(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::size_t newline = input.find('\n');
    std::string_view constraint_text = input.substr(0, newline);
    std::vector<Version> versions;
    for (std::string_view rest = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
         !rest.empty();) {
        std::size_t end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        std::optional<Version> v = Version::parse(line);
        if (!v) continue;
        std::optional<Version> again = Version::parse(v->str());
        if (!again || *again != *v) finding("str() does not parse back to the same version", line, v->str());
        versions.push_back(*v);
    }
    for (const Version& a : versions) {
        for (const Version& b : versions) {
            auto ab = a <=> b, ba = b <=> a;
            if ((ab < 0) != (ba > 0) || (ab == 0) != (a == b)) finding("not an order", a.str(), b.str());
        }
        if (!a.prerelease.empty()) continue;
        const std::string s = a.str();
        for (const char* op : {"=", ">=", "<=", ""}) {
            if (!matches(op + s, a)) finding("a release does not match a constraint naming it", op + s, s);
        }
        // A range's upper bound bumps a part: at 2^64-1 there is none, and
        // the constraint is refused as "numbers too large for a range".
        constexpr uint64_t kMax = UINT64_MAX;
        if (a.major != kMax && a.minor != kMax && a.patch != kMax) {
            for (const char* op : {"^", "~"}) {
                if (!matches(op + s, a)) finding("a release does not match a range it starts", op + s, s);
            }
        }
        if (matches("<" + s, a) || matches(">" + s, a)) finding("a release matches a strict bound of itself", s);
    }
    std::optional<VersionConstraint> c = VersionConstraint::parse(constraint_text);
    if (!c) return 0;
    std::optional<VersionConstraint> again = VersionConstraint::parse(c->str());
    if (!again) finding("str() of a constraint does not parse", constraint_text, c->str());
    for (const Version& v : versions) {
        if (c->matches(v) != again->matches(v)) finding("str() of a constraint matches differently", c->str(), v.str());
    }
    return 0;
}
