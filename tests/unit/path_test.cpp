#include "http/path.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace kerberus::http {
namespace {

std::string normalised(std::string_view raw)
{
    std::string out;
    const PathError e = normalise_path(raw, out);
    EXPECT_EQ(e, PathError::none) << raw << ": " << describe(e);
    return out;
}

PathError refusal(std::string_view raw)
{
    std::string out = "stale";
    const PathError e = normalise_path(raw, out);
    EXPECT_TRUE(out.empty()) << raw;
    return e;
}

TEST(NormalisePath, PlainPathsUnchanged)
{
    EXPECT_EQ(normalised("/"), "/");
    EXPECT_EQ(normalised("/api"), "/api");
    EXPECT_EQ(normalised("/api/hello/world"), "/api/hello/world");
    EXPECT_EQ(normalised("/api/hello/"), "/api/hello/");
    EXPECT_EQ(normalised("/a-b_c~d.e!$&'()*+,;=:@"), "/a-b_c~d.e!$&'()*+,;=:@");
}

TEST(NormalisePath, MergesSlashRuns)
{
    EXPECT_EQ(normalised("//a///b"), "/a/b");
    EXPECT_EQ(normalised("//api//hello"), "/api/hello");
    EXPECT_EQ(normalised("//"), "/");
    EXPECT_EQ(normalised("///"), "/");
    EXPECT_EQ(normalised("/a//"), "/a/");
    EXPECT_EQ(normalised("/a/b//"), "/a/b/");
}

TEST(NormalisePath, DecodesEscapes)
{
    EXPECT_EQ(normalised("/api/hello/w%20x"), "/api/hello/w x");
    EXPECT_EQ(normalised("/%41%42%43"), "/ABC");
    EXPECT_EQ(normalised("/%6a%6A"), "/jj");  // hex is case-insensitive
    EXPECT_EQ(normalised("/100%25"), "/100%");
    EXPECT_EQ(normalised("/%2525"), "/%25");  // decoded once, never twice
    EXPECT_EQ(normalised("/caf%C3%A9"), "/caf\xC3\xA9");
    EXPECT_EQ(normalised("/a+b"), "/a+b");  // '+' is only a space in queries
    EXPECT_EQ(normalised("/%3F%23"), "/?#");
}

TEST(NormalisePath, DotsThatAreNotDotSegments)
{
    EXPECT_EQ(normalised("/..."), "/...");
    EXPECT_EQ(normalised("/.hidden"), "/.hidden");
    EXPECT_EQ(normalised("/a./b.."), "/a./b..");
    EXPECT_EQ(normalised("/%2e%2e%2e"), "/...");
    EXPECT_EQ(normalised("/file.tar.gz"), "/file.tar.gz");
}

TEST(NormalisePath, NotAbsolute)
{
    EXPECT_EQ(refusal(""), PathError::not_absolute);
    EXPECT_EQ(refusal("api/hello"), PathError::not_absolute);
    EXPECT_EQ(refusal("%2Fapi"), PathError::not_absolute);
    EXPECT_EQ(refusal("*"), PathError::not_absolute);
    EXPECT_EQ(refusal("http://host/api"), PathError::not_absolute);
}

TEST(NormalisePath, MalformedEscapes)
{
    EXPECT_EQ(refusal("/%zz"), PathError::bad_escape);
    EXPECT_EQ(refusal("/%2"), PathError::bad_escape);
    EXPECT_EQ(refusal("/%"), PathError::bad_escape);
    EXPECT_EQ(refusal("/a%"), PathError::bad_escape);
    EXPECT_EQ(refusal("/%g0"), PathError::bad_escape);
    EXPECT_EQ(refusal("/%0g"), PathError::bad_escape);
    EXPECT_EQ(refusal("/%2/x"), PathError::bad_escape);
    EXPECT_EQ(refusal("/%%41"), PathError::bad_escape);
    EXPECT_EQ(refusal("/api/hello/%zz/echo"), PathError::bad_escape);
}

TEST(NormalisePath, RawDotSegments)
{
    EXPECT_EQ(refusal("/."), PathError::dot_segment);
    EXPECT_EQ(refusal("/.."), PathError::dot_segment);
    EXPECT_EQ(refusal("/./"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/../echo"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/./echo"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/.."), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/../"), PathError::dot_segment);
    EXPECT_EQ(refusal("//..//x"), PathError::dot_segment);
}

TEST(NormalisePath, EncodedDotSegments)
{
    EXPECT_EQ(refusal("/api/hello/%2e%2e/echo"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/%2E%2E/echo"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/.%2E/x"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/%2e./x"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/%2e/x"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/%2E"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/%2e%2e"), PathError::dot_segment);
    EXPECT_EQ(refusal("/api/hello/%2e%2e/"), PathError::dot_segment);
}

TEST(NormalisePath, EncodedSlashes)
{
    EXPECT_EQ(refusal("/api/hello/..%2fecho"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/api/hello/..%2Fecho"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/api%2fother"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/a%2F"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/%2e%2e%2f"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/a%5cb"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/a%5Cb"), PathError::encoded_slash);
    EXPECT_EQ(refusal("/..%5c..%5cetc"), PathError::encoded_slash);
}

// EncodedSlashes::keep: one segment, the escapes kept uppercase, '%' kept as
// %25 so that the path can be decoded once, unambiguously.
TEST(NormalisePath, KeptEncodedSlashesStayInTheirSegment)
{
    auto kept = [](std::string_view raw) {
        std::string out;
        const NormalisedPath n = normalise_path(raw, out, EncodedSlashes::keep);
        EXPECT_EQ(n.error, PathError::none) << raw << ": " << describe(n.error);
        EXPECT_TRUE(n.escaped) << raw;
        return out;
    };
    EXPECT_EQ(kept("/api/proxy/gitlab/projects/team%2Fservice"), "/api/proxy/gitlab/projects/team%2Fservice");
    EXPECT_EQ(kept("/x/team%2fservice"), "/x/team%2Fservice");
    EXPECT_EQ(kept("/x/a%5cb"), "/x/a%5Cb");
    EXPECT_EQ(kept("/x/a%25b%2Fc%20d"), "/x/a%25b%2Fc d");
    EXPECT_EQ(kept("/x/a%2F%252F"), "/x/a%2F%252F");
    EXPECT_EQ(kept("//x//%2F//"), "/x/%2F/");
    EXPECT_EQ(kept("/x/a%2F%2Fb"), "/x/a%2F%2Fb");
    EXPECT_EQ(kept("/x/a%2F...%2Fb"), "/x/a%2F...%2Fb");
    EXPECT_EQ(kept("/api%2fother"), "/api%2Fother");
}

TEST(NormalisePath, WithoutAnEncodedSlashKeepModeDecodesEverything)
{
    std::string out;
    const NormalisedPath n = normalise_path("/x/a%252Fb%25", out, EncodedSlashes::keep);
    EXPECT_EQ(n.error, PathError::none);
    EXPECT_FALSE(n.escaped);
    EXPECT_EQ(out, "/x/a%2Fb%");
}

TEST(NormalisePath, DotsBetweenKeptEncodedSlashesAreRefused)
{
    for (std::string_view raw : {"/x/..%2Fecho", "/x/a%2F..%2Fb", "/x/a%2F..", "/x/a%2F.", "/x/a%5C..%5Cb",
                                 "/x/%2e%2e%2fb", "/x/a%2F%2E", "/api/hello%2F..%2Fecho/x", "/x/.%2Fa"}) {
        std::string out = "stale";
        EXPECT_EQ(normalise_path(raw, out, EncodedSlashes::keep).error, PathError::dot_segment) << raw;
        EXPECT_TRUE(out.empty()) << raw;
    }
    std::string out;
    EXPECT_EQ(normalise_path("/x/a%2F%00", out, EncodedSlashes::keep).error, PathError::control_char);
    EXPECT_EQ(normalise_path("/x/a%2F%zz", out, EncodedSlashes::keep).error, PathError::bad_escape);
    EXPECT_EQ(normalise_path("/x/a%2F\\", out, EncodedSlashes::keep).error, PathError::backslash);
}

TEST(NormalisePath, UnescapeKeptDecodesOnce)
{
    std::string out;
    unescape_kept("team%2Fservice", out);
    EXPECT_EQ(out, "team/service");
    out.clear();
    unescape_kept("a%25b%5C%252F", out);
    EXPECT_EQ(out, "a%b\\%2F");
}

TEST(NormalisePath, Backslash)
{
    EXPECT_EQ(refusal("/a\\b"), PathError::backslash);
    EXPECT_EQ(refusal("/api/hello\\..\\echo"), PathError::backslash);
    EXPECT_EQ(refusal("/\\"), PathError::backslash);
}

TEST(NormalisePath, ControlCharacters)
{
    EXPECT_EQ(refusal("/a%00b"), PathError::control_char);
    EXPECT_EQ(refusal("/%00"), PathError::control_char);
    EXPECT_EQ(refusal(std::string_view("/a\0b", 4)), PathError::control_char);
    EXPECT_EQ(refusal("/a\nb"), PathError::control_char);
    EXPECT_EQ(refusal("/a\rb"), PathError::control_char);
    EXPECT_EQ(refusal("/a\tb"), PathError::control_char);
    EXPECT_EQ(refusal("/a\x7f"), PathError::control_char);
    EXPECT_EQ(refusal("/a\x1f"), PathError::control_char);
    EXPECT_EQ(refusal("/%0a"), PathError::control_char);
    EXPECT_EQ(refusal("/%0D%0A"), PathError::control_char);
    EXPECT_EQ(refusal("/%1F"), PathError::control_char);
    EXPECT_EQ(refusal("/%7f"), PathError::control_char);
    EXPECT_EQ(refusal("/%09"), PathError::control_char);
}

TEST(NormalisePath, EveryControlByteRefused)
{
    for (int c = 0; c < 0x20; ++c) {
        const char raw[] = {'/', static_cast<char>(c)};
        EXPECT_EQ(refusal(std::string_view(raw, 2)), PathError::control_char) << c;
        char encoded[8];
        std::snprintf(encoded, sizeof encoded, "/%%%02X", c);
        EXPECT_EQ(refusal(encoded), PathError::control_char) << encoded;
    }
}

TEST(NormalisePath, HighBytesPassThrough)
{
    EXPECT_EQ(normalised("/\xC3\xA9"), "/\xC3\xA9");
    EXPECT_EQ(normalised("/%80%FF"), "/\x80\xFF");
}

TEST(NormalisePath, ReusesBuffer)
{
    std::string out;
    out.reserve(256);
    const auto* before = out.data();
    ASSERT_EQ(normalise_path("/a/b/c", out), PathError::none);
    ASSERT_EQ(normalise_path("//x//y%20z/", out), PathError::none);
    EXPECT_EQ(out, "/x/y z/");
    EXPECT_EQ(out.data(), before);
}

TEST(NormalisePath, OutputNeverLongerThanInput)
{
    for (std::string_view raw : {"/", "//", "/a/", "/%41", "/a//b/", "/%20%20/"}) {
        std::string out;
        ASSERT_EQ(normalise_path(raw, out), PathError::none) << raw;
        EXPECT_LE(out.size(), raw.size()) << raw;
    }
}

TEST(DescribePathError, EveryValueHasText)
{
    for (PathError e : {PathError::none, PathError::not_absolute, PathError::bad_escape, PathError::dot_segment,
                        PathError::encoded_slash, PathError::control_char, PathError::backslash}) {
        ASSERT_NE(describe(e), nullptr);
        EXPECT_GT(std::string_view(describe(e)).size(), 0u);
    }
    EXPECT_STRNE(describe(PathError::dot_segment), describe(PathError::encoded_slash));
}

TEST(PercentDecode, Query)
{
    std::string out;
    ASSERT_TRUE(percent_decode("a%20b+c", out, false));
    EXPECT_EQ(out, "a b+c");
    ASSERT_TRUE(percent_decode("a%20b+c", out, true));
    EXPECT_EQ(out, "a b c");
    ASSERT_TRUE(percent_decode("%2B", out, true));
    EXPECT_EQ(out, "+");  // an encoded plus stays a plus
    ASSERT_TRUE(percent_decode("", out, true));
    EXPECT_EQ(out, "");
    ASSERT_TRUE(percent_decode("%2f%2F%5c", out, false));
    EXPECT_EQ(out, "//\\");  // separators mean nothing in a query value
    ASSERT_TRUE(percent_decode("%e2%82%AC", out, false));
    EXPECT_EQ(out, "\xE2\x82\xAC");
    ASSERT_TRUE(percent_decode("x%00y", out, false));
    EXPECT_EQ(out, std::string_view("x\0y", 3));
}

TEST(PercentDecode, Malformed)
{
    std::string out = "stale";
    for (std::string_view bad : {"%", "%2", "a%zz", "%%", "%g1", "abc%4"}) {
        EXPECT_FALSE(percent_decode(bad, out, true)) << bad;
        EXPECT_TRUE(out.empty()) << bad;
    }
}

TEST(PercentDecode, ClearsOutputFirst)
{
    std::string out = "previous";
    ASSERT_TRUE(percent_decode("x", out, false));
    EXPECT_EQ(out, "x");
}

}  // namespace
}  // namespace kerberus::http
