// An encoded slash inside a path segment is data (RFC 3986 §2.2): GitLab
// names projects "team%2Fservice". The daemon keeps such a segment whole,
// hands route parameters their decoded value, and never lets it reach
// another plugin's prefix; `server.encoded_slashes: refuse` turns it away.
#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

std::string param(const rapidjson::Document& doc, const char* name) {
    auto params = doc.FindMember("params");
    if (params == doc.MemberEnd() || !params->value.IsObject()) return "<no params>";
    auto it = params->value.FindMember(name);
    if (it == params->value.MemberEnd() || !it->value.IsString()) return "<none>";
    return it->value.GetString();
}

TEST(IntegrationEncodedSlashes, StayInsideTheirSegmentAndParametersGetThemDecoded) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), raw_get("/api/echo/params/team%2fservice/a%25b%2Fc"));
    ASSERT_TRUE(r.has_value()) << "no response";
    ASSERT_EQ(r->status, 200) << r->body;
    auto doc = parse_json(r->body);
    EXPECT_EQ(param(doc, "first"), "team/service") << r->body;
    EXPECT_EQ(param(doc, "second"), "a%b/c") << r->body;
    EXPECT_EQ(json_string(doc, "path"), "/params/team%2Fservice/a%25b%2Fc");
    EXPECT_EQ(json_string(doc, "raw_path"), "/api/echo/params/team%2fservice/a%25b%2Fc");
}

// Without an encoded slash '%' is decoded as always: "%252F" is the text
// "%2F", never a separator and never decoded twice.
TEST(IntegrationEncodedSlashes, AnEncodedPercentIsDecodedOnce) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), raw_get("/api/echo/params/a%252Fb/c"));
    ASSERT_TRUE(r.has_value()) << "no response";
    ASSERT_EQ(r->status, 200) << r->body;
    auto doc = parse_json(r->body);
    EXPECT_EQ(param(doc, "first"), "a%2Fb") << r->body;
    EXPECT_EQ(json_string(doc, "path"), "/params/a%2Fb/c");
}

TEST(IntegrationEncodedSlashes, NeverLeadIntoAnotherPlugin) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (std::string target : {"/api/hello%2Fecho/x", "/api%2Fecho/x", "/api/hello%5Cecho/x"}) {
        auto r = raw_exchange(d.port(), raw_get(target));
        ASSERT_TRUE(r.has_value()) << target << ": no response";
        EXPECT_EQ(r->status, 404) << target << ": " << r->body;
        EXPECT_EQ(r->body.find("\"raw_path\""), std::string::npos) << target << ": " << r->body;
    }
}

TEST(IntegrationEncodedSlashes, RefuseModeAnswers400NamingTheSetting) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("encoded_slashes", "refuse")));
    auto r = raw_exchange(d.port(), raw_get("/api/echo/a%2Fb"));
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_TRUE(is_error_response(*r, 400, "GET", "/api/echo/a%2Fb", "InputError")) << r->body;
    EXPECT_NE(r->body.find("server.encoded_slashes"), std::string::npos) << r->body;
    EXPECT_EQ(get(d.url("/api/echo/a%20b")).status, 200);
}

}  // namespace
}  // namespace kerberus::test
