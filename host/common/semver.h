// Semantic versions of plugins and the constraints operators pin them with.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kerberus {

struct Version {
    uint64_t major = 0, minor = 0, patch = 0;
    std::string prerelease;  // "" for a release; sorts below the release

    // "1.2.3", "1.2.3-rc.1", "1.2.3+build.5"; strict semver 2.0 (no leading
    // zeros, no "v" prefix).
    static std::optional<Version> parse(std::string_view text);
    std::string str() const;
    friend bool operator==(const Version&, const Version&) = default;
    friend std::strong_ordering operator<=>(const Version& a, const Version& b);
};

// "1.2.3" (exactly), "^1.2" (>=1.2.0 <2.0.0; ^0.2 -> <0.3.0), "~1.2"
// (>=1.2.0 <1.3.0), ">=1.2", ">1", "<2", "<=1.4", "=1.2.3", "*", and several
// of these separated by spaces (all must hold; ">= 1.2" may split operator
// and version). Partial versions fill with 0 where they are a lower bound or
// "<"; elsewhere a partial stands for all versions it prefixes, as in npm:
// "1.2" and "=1.2" mean >=1.2.0 <1.3.0, ">1.2" means >=1.3.0, "<=1.4" means
// <1.5.0. Caret keeps the leftmost non-zero part given: ^0.0.3 is
// >=0.0.3 <0.0.4, ^0 is <1.0.0. Tilde: ~1.2.3 -> <1.3.0, ~1 -> <2.0.0.
// Build metadata ("+...") is accepted and ignored everywhere.
//
// Prereleases (npm rule): a version such as 1.3.0-rc.1 matches only when it
// satisfies every bound and some bound itself names a prerelease of the same
// major.minor.patch, so "^1.2" and "*" never pick up release candidates but
// ">=1.3.0-rc.1 <2" does.
class VersionConstraint {
public:
    // nullopt and *error set when the text is not a constraint.
    static std::optional<VersionConstraint> parse(std::string_view text, std::string* error = nullptr);
    bool matches(const Version& v) const;
    const std::string& str() const { return text_; }

private:
    struct Bound {
        enum class Op { eq, gt, ge, lt, le } op;
        Version version;
    };
    std::string text_;
    std::vector<Bound> bounds_;
};

}  // namespace kerberus
