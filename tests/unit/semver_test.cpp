#include "common/semver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace kerberus {
namespace {

Version v(std::string_view text)
{
    const std::optional<Version> parsed = Version::parse(text);
    EXPECT_TRUE(parsed) << text;
    return parsed.value_or(Version{});
}

VersionConstraint constraint(std::string_view text)
{
    std::string error;
    const std::optional<VersionConstraint> c = VersionConstraint::parse(text, &error);
    EXPECT_TRUE(c) << text << ": " << error;
    return c.value_or(*VersionConstraint::parse("*"));
}

std::string parse_error(std::string_view text)
{
    std::string error;
    EXPECT_FALSE(VersionConstraint::parse(text, &error)) << text;
    return error;
}

bool satisfies(std::string_view version, std::string_view range)
{
    return constraint(range).matches(v(version));
}

TEST(VersionParse, FullVersions)
{
    const Version a = v("1.2.3");
    EXPECT_EQ(a.major, 1u);
    EXPECT_EQ(a.minor, 2u);
    EXPECT_EQ(a.patch, 3u);
    EXPECT_EQ(a.prerelease, "");
    EXPECT_EQ(v("0.0.0").str(), "0.0.0");
    EXPECT_EQ(v("10.20.30").str(), "10.20.30");
    EXPECT_EQ(v("18446744073709551615.0.0").major, std::numeric_limits<uint64_t>::max());
}

TEST(VersionParse, Prerelease)
{
    const Version a = v("1.2.3-rc.1");
    EXPECT_EQ(a.prerelease, "rc.1");
    EXPECT_EQ(a.str(), "1.2.3-rc.1");
    EXPECT_EQ(v("1.0.0-alpha-beta.x-y").prerelease, "alpha-beta.x-y");
    EXPECT_EQ(v("1.0.0-0").prerelease, "0");
    EXPECT_EQ(v("1.0.0-0a").prerelease, "0a");  // alphanumeric: leading zero allowed
}

TEST(VersionParse, BuildMetadataIgnored)
{
    EXPECT_EQ(v("1.2.3+build.5"), v("1.2.3"));
    EXPECT_EQ(v("1.2.3-rc.1+exp.sha.5114f85"), v("1.2.3-rc.1"));
    EXPECT_EQ(v("1.2.3+001").str(), "1.2.3");  // leading zeros fine in build metadata
    EXPECT_EQ(v("1.2.3+b-1").str(), "1.2.3");
}

TEST(VersionParse, Rejects)
{
    for (std::string_view bad : {"", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.x",
                                 "a.b.c", "1..3", "1.2.", ".1.2", "1.2.3-", "1.2.3+", "1.2.3-rc..1",
                                 "1.2.3-01", "1.2.3-rc_1", "1.2.3+a..b", " 1.2.3", "1.2.3 ", "-1.2.3",
                                 "18446744073709551616.0.0", "1.2-rc.1", "1.2.3-+b"}) {
        EXPECT_FALSE(Version::parse(bad)) << bad;
    }
}

TEST(VersionOrder, NumericParts)
{
    EXPECT_LT(v("1.2.3"), v("1.2.4"));
    EXPECT_LT(v("1.2.9"), v("1.3.0"));
    EXPECT_LT(v("1.9.9"), v("2.0.0"));
    EXPECT_LT(v("1.2.3"), v("1.10.0"));  // numeric, not textual
    EXPECT_EQ(v("1.2.3") <=> v("1.2.3"), std::strong_ordering::equal);
    EXPECT_GT(v("2.0.0"), v("1.99.99"));
}

TEST(VersionOrder, SemverSpecPrecedenceChain)
{
    // The example chain from semver.org section 11.
    const std::vector<std::string_view> chain = {"1.0.0-alpha",      "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                                 "1.0.0-beta",       "1.0.0-beta.2",  "1.0.0-beta.11",
                                                 "1.0.0-rc.1",       "1.0.0"};
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        EXPECT_LT(v(chain[i]), v(chain[i + 1])) << chain[i] << " < " << chain[i + 1];
        EXPECT_GT(v(chain[i + 1]), v(chain[i]));
    }
    std::vector<Version> shuffled;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        shuffled.push_back(v(*it));
    std::sort(shuffled.begin(), shuffled.end());
    for (std::size_t i = 0; i < chain.size(); ++i)
        EXPECT_EQ(shuffled[i].str(), chain[i]);
}

TEST(VersionOrder, PrereleaseIdentifiers)
{
    EXPECT_LT(v("1.0.0-2"), v("1.0.0-10"));     // numeric identifiers compare as numbers
    EXPECT_LT(v("1.0.0-99"), v("1.0.0-a"));     // numeric below alphanumeric
    EXPECT_LT(v("1.0.0-B"), v("1.0.0-a"));      // ASCII order
    EXPECT_LT(v("1.0.0-rc"), v("1.0.0-rc.0"));  // fewer identifiers first
    EXPECT_LT(v("1.0.0-rc.1"), v("1.0.0"));
    EXPECT_LT(v("0.9.9"), v("1.0.0-0"));
    EXPECT_LT(v("1.0.0-rc.1"), v("1.0.1-alpha"));
    EXPECT_EQ(v("1.0.0-rc.1"), v("1.0.0-rc.1"));
    EXPECT_NE(v("1.0.0-rc.1"), v("1.0.0-rc.2"));
}

TEST(ConstraintParse, KeepsText)
{
    EXPECT_EQ(constraint("^1.2").str(), "^1.2");
    EXPECT_EQ(constraint(">=1.2 <2").str(), ">=1.2 <2");
}

TEST(ConstraintExact, FullVersionMeansExactly)
{
    EXPECT_TRUE(satisfies("1.2.3", "1.2.3"));
    EXPECT_FALSE(satisfies("1.2.4", "1.2.3"));
    EXPECT_FALSE(satisfies("1.2.2", "1.2.3"));
    EXPECT_TRUE(satisfies("1.2.3", "=1.2.3"));
    EXPECT_FALSE(satisfies("1.2.4", "=1.2.3"));
    EXPECT_TRUE(satisfies("1.2.3", "1.2.3+build"));
    EXPECT_TRUE(satisfies("1.2.3-rc.1", "1.2.3-rc.1"));
    EXPECT_FALSE(satisfies("1.2.3", "1.2.3-rc.1"));
}

TEST(ConstraintExact, PartialMeansItsRange)
{
    EXPECT_FALSE(satisfies("1.1.9", "1.2"));
    EXPECT_TRUE(satisfies("1.2.0", "1.2"));
    EXPECT_TRUE(satisfies("1.2.99", "1.2"));
    EXPECT_FALSE(satisfies("1.3.0", "1.2"));
    EXPECT_TRUE(satisfies("1.0.0", "1"));
    EXPECT_TRUE(satisfies("1.99.0", "1"));
    EXPECT_FALSE(satisfies("2.0.0", "1"));
    EXPECT_FALSE(satisfies("0.9.0", "1"));
    EXPECT_TRUE(satisfies("1.2.5", "=1.2"));
    EXPECT_FALSE(satisfies("1.3.0", "=1.2"));
}

TEST(ConstraintCaret, Major)
{
    EXPECT_TRUE(satisfies("1.2.0", "^1.2"));
    EXPECT_TRUE(satisfies("1.9.9", "^1.2"));
    EXPECT_FALSE(satisfies("1.1.9", "^1.2"));
    EXPECT_FALSE(satisfies("2.0.0", "^1.2"));
    EXPECT_TRUE(satisfies("1.2.3", "^1.2.3"));
    EXPECT_FALSE(satisfies("1.2.2", "^1.2.3"));
    EXPECT_TRUE(satisfies("1.0.0", "^1"));
    EXPECT_TRUE(satisfies("1.5.0", "^1"));
    EXPECT_FALSE(satisfies("2.0.0", "^1"));
}

TEST(ConstraintCaret, ZeroMajor)
{
    EXPECT_TRUE(satisfies("0.2.0", "^0.2"));
    EXPECT_TRUE(satisfies("0.2.9", "^0.2"));
    EXPECT_FALSE(satisfies("0.3.0", "^0.2"));
    EXPECT_FALSE(satisfies("0.1.9", "^0.2"));
    EXPECT_TRUE(satisfies("0.2.3", "^0.2.3"));
    EXPECT_TRUE(satisfies("0.2.8", "^0.2.3"));
    EXPECT_FALSE(satisfies("0.2.2", "^0.2.3"));
    EXPECT_FALSE(satisfies("0.3.0", "^0.2.3"));
    EXPECT_TRUE(satisfies("0.9.0", "^0"));
    EXPECT_FALSE(satisfies("1.0.0", "^0"));
}

TEST(ConstraintCaret, ZeroMinor)
{
    EXPECT_TRUE(satisfies("0.0.3", "^0.0.3"));
    EXPECT_FALSE(satisfies("0.0.4", "^0.0.3"));
    EXPECT_FALSE(satisfies("0.0.2", "^0.0.3"));
    EXPECT_TRUE(satisfies("0.0.7", "^0.0"));
    EXPECT_FALSE(satisfies("0.1.0", "^0.0"));
    EXPECT_TRUE(satisfies("0.0.0", "^0.0.0"));
    EXPECT_FALSE(satisfies("0.0.1", "^0.0.0"));
}

TEST(ConstraintTilde, Forms)
{
    EXPECT_TRUE(satisfies("1.2.3", "~1.2.3"));
    EXPECT_TRUE(satisfies("1.2.9", "~1.2.3"));
    EXPECT_FALSE(satisfies("1.2.2", "~1.2.3"));
    EXPECT_FALSE(satisfies("1.3.0", "~1.2.3"));
    EXPECT_TRUE(satisfies("1.2.0", "~1.2"));
    EXPECT_FALSE(satisfies("1.3.0", "~1.2"));
    EXPECT_TRUE(satisfies("1.0.0", "~1"));
    EXPECT_TRUE(satisfies("1.9.0", "~1"));
    EXPECT_FALSE(satisfies("2.0.0", "~1"));
    EXPECT_TRUE(satisfies("0.2.5", "~0.2.3"));
    EXPECT_FALSE(satisfies("0.3.0", "~0.2.3"));
}

TEST(ConstraintComparison, GreaterOrEqual)
{
    EXPECT_TRUE(satisfies("1.2.0", ">=1.2"));
    EXPECT_TRUE(satisfies("7.0.0", ">=1.2"));
    EXPECT_FALSE(satisfies("1.1.9", ">=1.2"));
    EXPECT_TRUE(satisfies("1.2.3", ">=1.2.3"));
    EXPECT_FALSE(satisfies("1.2.2", ">=1.2.3"));
    EXPECT_TRUE(satisfies("1.0.0", ">=1"));
}

TEST(ConstraintComparison, Greater)
{
    EXPECT_FALSE(satisfies("1.2.3", ">1.2.3"));
    EXPECT_TRUE(satisfies("1.2.4", ">1.2.3"));
    // A partial names all its versions: ">1" is above every 1.x.
    EXPECT_FALSE(satisfies("1.0.1", ">1"));
    EXPECT_FALSE(satisfies("1.9.9", ">1"));
    EXPECT_TRUE(satisfies("2.0.0", ">1"));
    EXPECT_FALSE(satisfies("1.2.9", ">1.2"));
    EXPECT_TRUE(satisfies("1.3.0", ">1.2"));
}

TEST(ConstraintComparison, Less)
{
    EXPECT_TRUE(satisfies("1.9.9", "<2"));
    EXPECT_FALSE(satisfies("2.0.0", "<2"));
    EXPECT_TRUE(satisfies("1.1.9", "<1.2"));
    EXPECT_FALSE(satisfies("1.2.0", "<1.2"));
    EXPECT_TRUE(satisfies("1.2.2", "<1.2.3"));
    EXPECT_FALSE(satisfies("1.2.3", "<1.2.3"));
}

TEST(ConstraintComparison, LessOrEqual)
{
    EXPECT_TRUE(satisfies("1.4.0", "<=1.4"));
    EXPECT_TRUE(satisfies("1.4.7", "<=1.4"));
    EXPECT_FALSE(satisfies("1.5.0", "<=1.4"));
    EXPECT_TRUE(satisfies("1.2.3", "<=1.2.3"));
    EXPECT_FALSE(satisfies("1.2.4", "<=1.2.3"));
    EXPECT_TRUE(satisfies("1.9.0", "<=1"));
    EXPECT_FALSE(satisfies("2.0.0", "<=1"));
}

TEST(ConstraintAny, Star)
{
    EXPECT_TRUE(satisfies("0.0.0", "*"));
    EXPECT_TRUE(satisfies("99.1.2", "*"));
    EXPECT_FALSE(satisfies("1.0.0-rc.1", "*"));
    EXPECT_TRUE(satisfies("1.5.0", "* <2"));
}

TEST(ConstraintConjunction, AllMustHold)
{
    EXPECT_TRUE(satisfies("1.5.0", ">=1.2 <2"));
    EXPECT_FALSE(satisfies("2.0.0", ">=1.2 <2"));
    EXPECT_FALSE(satisfies("1.1.0", ">=1.2 <2"));
    EXPECT_TRUE(satisfies("1.4.0", "^1.2 <1.5"));
    EXPECT_FALSE(satisfies("1.5.0", "^1.2 <1.5"));
    EXPECT_TRUE(satisfies("1.3.0", "  >=1.2\t <2  "));  // any run of blanks
    EXPECT_FALSE(satisfies("1.3.0", ">=2 <1"));          // empty, but not an error
}

TEST(ConstraintConjunction, OperatorSeparatedFromVersion)
{
    EXPECT_TRUE(satisfies("1.3.0", ">= 1.2 < 2"));
    EXPECT_FALSE(satisfies("2.0.0", ">= 1.2 < 2"));
    EXPECT_TRUE(satisfies("1.9.0", "^ 1.2"));
}

TEST(ConstraintPrerelease, OnlyWithPrereleaseBoundOnSameTriple)
{
    EXPECT_FALSE(satisfies("1.3.0-rc.1", "^1.2"));
    EXPECT_FALSE(satisfies("1.3.0-rc.1", ">=1.2"));
    EXPECT_FALSE(satisfies("2.0.0-rc.1", "<2"));
    EXPECT_TRUE(satisfies("1.3.0-rc.1", ">=1.3.0-rc.1 <2"));
    EXPECT_TRUE(satisfies("1.3.0-rc.2", ">=1.3.0-rc.1"));
    EXPECT_FALSE(satisfies("1.3.0-beta", ">=1.3.0-rc.1"));  // below the bound
    EXPECT_FALSE(satisfies("1.3.1-rc.1", ">=1.3.0-rc.1"));  // other triple
    EXPECT_TRUE(satisfies("1.3.0", ">=1.3.0-rc.1"));        // releases unaffected
    EXPECT_TRUE(satisfies("1.2.3-beta.3", "^1.2.3-beta.2"));
    EXPECT_FALSE(satisfies("1.2.4-beta.3", "^1.2.3-beta.2"));
    EXPECT_TRUE(satisfies("1.2.5", "^1.2.3-beta.2"));
    EXPECT_TRUE(satisfies("1.2.3-rc.1", "~1.2.3-rc.1"));
    EXPECT_TRUE(satisfies("2.0.0-rc.1", ">1.0.0 <2.0.0-rc.2"));  // upper bound carries it
    EXPECT_FALSE(satisfies("2.0.0-rc.2", ">1.0.0 <2.0.0-rc.2"));
}

TEST(ConstraintErrors, SayWhatIsWrong)
{
    EXPECT_EQ(parse_error("^x.1"), "\"^x.1\": \"x\" is not a number");
    EXPECT_EQ(parse_error("1.x"), "\"1.x\": \"x\" is not a number");
    EXPECT_EQ(parse_error(">=1.2 <y"), "\"<y\": \"y\" is not a number");
    EXPECT_EQ(parse_error("^01.2"), "\"^01.2\": \"01\" has a leading zero");
    EXPECT_EQ(parse_error("1.2.3.4"), "\"1.2.3.4\": more than three numbers in \"1.2.3.4\"");
    EXPECT_EQ(parse_error(">="), "\">=\": a version is missing");
    EXPECT_EQ(parse_error("^"), "\"^\": a version is missing");
    EXPECT_EQ(parse_error("1..2"), "\"1..2\": a number is missing");
    EXPECT_EQ(parse_error("1.2-rc.1"), "\"1.2-rc.1\": a prerelease needs major.minor.patch");
    EXPECT_EQ(parse_error("1.2.3-rc..1"), "\"1.2.3-rc..1\": empty identifier in prerelease \"rc..1\"");
    EXPECT_EQ(parse_error("1.2.3-r!"), "\"1.2.3-r!\": bad character '!' in prerelease \"r!\"");
    EXPECT_EQ(parse_error("99999999999999999999"), "\"99999999999999999999\": \"99999999999999999999\" is too large");
    EXPECT_EQ(parse_error(">= x"), "\">= x\": \"x\" is not a number");
    EXPECT_EQ(parse_error(""), "empty version constraint");
    EXPECT_EQ(parse_error("   "), "empty version constraint");
}

TEST(ConstraintErrors, UnsupportedSyntax)
{
    for (std::string_view bad : {"1 || 2", "1.x", "x", "v1.2", "=>1", ">=^1", "1 - 2", "^*", "1.2.3-", "latest"})
        EXPECT_FALSE(VersionConstraint::parse(bad)) << bad;
}

TEST(ConstraintErrors, RangeBeyondLargestNumber)
{
    EXPECT_EQ(parse_error("^18446744073709551615"), "\"^18446744073709551615\": numbers too large for a range");
    EXPECT_FALSE(VersionConstraint::parse(">1.18446744073709551615"));
    EXPECT_TRUE(satisfies("18446744073709551615.0.0", ">=18446744073709551615"));
}

TEST(ConstraintErrors, NullErrorPointerIsFine)
{
    EXPECT_FALSE(VersionConstraint::parse("nope"));
}

}  // namespace
}  // namespace kerberus
