// kerberus::json (plugin.hpp): JSON strings from any bytes, by RapidJSON.
#include <kerberus/plugin.hpp>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

using kerberus::json::append_string;
using kerberus::json::string;

const std::string fffd = "\xEF\xBF\xBD";

// What a strict parser (UTF-8 validated) reads back from a JSON string, or
// nullopt.
std::optional<std::string> parse(const std::string& literal) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(literal.c_str(), literal.size());
    if (d.HasParseError() || !d.IsString()) return std::nullopt;
    return std::string(d.GetString(), d.GetStringLength());
}

// append_string's answer for `text`, and what it left in a string that held
// "x".
std::pair<bool, std::string> appended(std::string_view text) {
    std::string out = "x";
    bool ok = append_string(out, text);
    return {ok, out};
}

TEST(SdkJson, EscapesWhatJsonRequiresAndKeepsTheRest) {
    EXPECT_EQ(string(""), "\"\"");
    EXPECT_EQ(string("plain / text"), "\"plain / text\"");
    EXPECT_EQ(string("q\"b\\s"), "\"q\\\"b\\\\s\"");
    EXPECT_EQ(string("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    EXPECT_EQ(string(std::string_view("\0\x01\x1f", 3)), "\"\\u0000\\u0001\\u001F\"");
    // RFC 8259 leaves DEL and U+2028 unescaped, and so does RapidJSON.
    EXPECT_EQ(string("\x7f\xE2\x80\xA8"), "\"\x7f\xE2\x80\xA8\"");
}

TEST(SdkJson, KeepsWellFormedMultibyteText) {
    // Two, three and four bytes, the shortest and longest of each too.
    const std::string text =
        "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
        "\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF";
    EXPECT_EQ(string(text), "\"" + text + "\"");
    EXPECT_EQ(appended(text), std::make_pair(true, "x\"" + text + "\""));
}

TEST(SdkJson, AppendStringRefusesIllFormedUtf8AndAppendsNothing) {
    for (std::string_view bad : {
             std::string_view("a\xFF" "b"),         // never in UTF-8
             std::string_view("\xC0\xAF"),          // overlong '/'
             std::string_view("\xE0\x80\xAF"),      // overlong '/' in three bytes
             std::string_view("\xED\xA0\x80"),      // a surrogate, U+D800
             std::string_view("\xED\xBF\xBF"),      // a surrogate, U+DFFF
             std::string_view("\xF4\x90\x80\x80"),  // U+110000, past U+10FFFF
             std::string_view("\xF5\x80\x80\x80"),  // a lead byte past U+10FFFF
             std::string_view("x\xE2\x82"),         // cut short at the end
             std::string_view("\xE2\x82x"),         // cut short before more text
             std::string_view("\x80"),              // a continuation byte alone
         }) {
        EXPECT_EQ(appended(bad), std::make_pair(false, std::string("x"))) << testing::PrintToString(bad);
    }
}

TEST(SdkJson, ReadsNothingPastTheText) {
    // The bytes after the view would complete its last character (U+20AC).
    const char euro[] = "a\xE2\x82\xAC";
    EXPECT_EQ(appended(std::string_view(euro, 3)), std::make_pair(false, std::string("x")));
    EXPECT_EQ(string(std::string_view(euro, 3)), "\"a" + fffd + "\"");
    EXPECT_EQ(string(std::string_view(euro, 4)), "\"a\xE2\x82\xAC\"");
}

TEST(SdkJson, StringReplacesEachMaximalIllFormedSubpart) {
    EXPECT_EQ(string("a\xFF" "b"), "\"a" + fffd + "b\"");
    // Never the start of a character: each byte is replaced.
    EXPECT_EQ(string("\xC0\xAF"), "\"" + fffd + fffd + "\"");
    EXPECT_EQ(string("\xE0\x80\xAF"), "\"" + fffd + fffd + fffd + "\"");
    EXPECT_EQ(string("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");
    EXPECT_EQ(string("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");
    // A character cut short is replaced as a whole.
    EXPECT_EQ(string("x\xE2\x82"), "\"x" + fffd + "\"");
    EXPECT_EQ(string("\xF0\x9F\x98" "x"), "\"" + fffd + "x\"");
    EXPECT_EQ(string("\xE2\x82\xE2\x82\xAC"), "\"" + fffd + "\xE2\x82\xAC\"");
    // The Unicode Standard's example (chapter 3, U+FFFD substitution).
    EXPECT_EQ(string("a\xF1\x80\x80\xE1\x80\xC2" "b\x80" "c\x80\xBF" "d"),
              "\"a" + fffd + fffd + fffd + "b" + fffd + "c" + fffd + fffd + "d\"");
    // Replaced, then escaped.
    EXPECT_EQ(string("\"\xFF\n"), "\"\\\"" + fffd + "\\n\"");
}

TEST(SdkJson, EveryPairOfBytesGivesValidJson) {
    // A strict parser accepts every result; append_string takes exactly
    // what string() keeps as it is.
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            std::string in{static_cast<char>(a), static_cast<char>(b)};
            std::string literal = string(in);
            std::optional<std::string> back = parse(literal);
            ASSERT_TRUE(back) << "bytes " << a << " " << b << ": " << literal;
            std::string out;
            bool ok = append_string(out, in);
            EXPECT_EQ(ok, *back == in) << "bytes " << a << " " << b;
            EXPECT_EQ(out, ok ? literal : "") << "bytes " << a << " " << b;
        }
    }
}

TEST(SdkJson, AppendsToWhatIsThere) {
    std::string out = "{\"message\":";
    EXPECT_TRUE(append_string(out, "hi \"you\""));
    out += "}";
    EXPECT_EQ(out, "{\"message\":\"hi \\\"you\\\"\"}");
}

}  // namespace
