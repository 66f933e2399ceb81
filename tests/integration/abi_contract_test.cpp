// The host functions return what plugin.h promises, observed from a real
// plugin through a running daemon: once through the C ABI directly
// (abi-contract) and once through the Rust crate (abi-contract-rust), whose
// routes give the same answers.
#include <gtest/gtest.h>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

struct ContractFixture {
    const char* name;  // test name suffix
    const char* id;    // tests/fixtures/plugins/<id>; the routes are below /api/<id>
};

class IntegrationAbiContract : public ::testing::TestWithParam<ContractFixture> {
protected:
    void SetUp() override { ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir(GetParam().id)))); }
    std::string path(const std::string& below) const { return std::string("/api/") + GetParam().id + below; }
    std::string url(const std::string& below) const { return d.url(path(below)); }
    std::string body(const std::string& below) {
        auto r = get(url(below));
        EXPECT_EQ(r.status, 200) << below << ": " << r.body;
        return r.body;
    }
    Daemon d;
};

INSTANTIATE_TEST_SUITE_P(Fixture, IntegrationAbiContract,
                         ::testing::Values(ContractFixture{"C", "abi-contract"},
                                           ContractFixture{"Rust", "abi-contract-rust"}),
                         [](const ::testing::TestParamInfo<ContractFixture>& info) { return info.param.name; });

}  // namespace

TEST_P(IntegrationAbiContract, RouteAddRefusesDuplicatesAndMalformedRoutes) {
    EXPECT_EQ(body("/init"), "duplicate=-4 pattern=-1 method=-1 handler=-1 has_respond=1");
}

TEST_P(IntegrationAbiContract, RouteAddAfterInitIsRefused) {
    EXPECT_EQ(body("/late"), "late=-5");
    EXPECT_EQ(get(url("/added-late")).status, 404);
}

TEST_P(IntegrationAbiContract, SecondResponseIsRefusedAndTheFirstStands) {
    EXPECT_EQ(body("/twice"), "first");
    EXPECT_TRUE(d.wait_for_log({"[" + std::string(GetParam().id) + "]", "second=state"}, 2s)) << d.log();
    EXPECT_TRUE(d.wait_for_log({"responded twice"}, 2s)) << d.log();
}

TEST_P(IntegrationAbiContract, StatusOutOfRangeIsRefusedAndTheRequestStaysAnswerable) {
    EXPECT_EQ(body("/invalid"), "low=-1 informational=-1 high=-1");
}

TEST_P(IntegrationAbiContract, FramingHeadersAndHeaderInjectionAreRefused) {
    auto r = get(url("/headers"));
    EXPECT_EQ(r.body, "crlf=-1 badlength=-1 connection=-1 te=-1 badname=-1 ok=0");
    EXPECT_EQ(r.header("X-Fine").value_or(""), "yes");
    EXPECT_FALSE(r.header("X-Injected").has_value());
}

// A stated Content-Length is what a HEAD answer reports; with a body it
// must be the body's, and a refused respond() leaves the request to answer.
TEST_P(IntegrationAbiContract, AStatedContentLengthFramesHeadAndMustMatchABody) {
    auto r = get(url("/stated-length"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello");
    EXPECT_EQ(r.header("X-Mismatch").value_or(""), "-1");
    EXPECT_EQ(r.header("Content-Length").value_or(""), "5");
    Request head;
    head.method = "HEAD";
    head.url = url("/stated-length");
    auto h = perform(head);
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.header("Content-Length").value_or(""), "1234");
    EXPECT_TRUE(h.body.empty());
}

TEST_P(IntegrationAbiContract, RequestHeaderLookupIsCaseInsensitive) {
    Request req;
    req.url = url("/header");
    req.headers.push_back("X-Probe: probe value 42");
    auto r = perform(req);
    EXPECT_EQ(r.body, "probe value 42");
}

TEST_P(IntegrationAbiContract, KeptRequestIsReadableAndAnsweredFromAnotherThread) {
    for (int i = 0; i < 20; ++i) EXPECT_EQ(body("/late-async"), "/late-async");
}

TEST_P(IntegrationAbiContract, RespondErrorSendsTheDaemonsErrorBodyWithThePluginsHeaders) {
    auto r = get(url("/error"));
    EXPECT_TRUE(is_error_response(r, 422, "GET", path("/error")));
    EXPECT_EQ(r.header("X-First-Try").value_or(""), "-1");
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc["error"], "message").value_or(""), "the \"thing\" cannot be processed");
}
