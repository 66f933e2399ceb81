// The host functions return what plugin.h promises, observed from a real
// plugin through a running daemon: once through the C ABI directly
// (abi-contract) and once through the Rust crate (abi-contract-rust), whose
// routes give the same answers.
#include <gtest/gtest.h>

#include <algorithm>

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

// A kept request streamed from the plugin's thread (keep, thread, start,
// writes, end) with an unknown length: chunked on the wire, one chunk a
// write, and complete: the last chunk comes and the connection serves on.
TEST_P(IntegrationAbiContract, AStreamFromAnotherThreadGoesChunkedAndCompletes) {
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET " + path("/stream/3") + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    std::string wire = c.read_to_close(5s);
    ASSERT_TRUE(wire.starts_with("HTTP/1.1 200 OK\r\n")) << wire;
    EXPECT_NE(wire.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos) << wire;
    EXPECT_EQ(wire.find("Content-Length"), std::string::npos) << wire;
    EXPECT_TRUE(wire.ends_with("\r\n\r\n7\r\nline 0\n\r\n7\r\nline 1\n\r\n7\r\nline 2\n\r\n0\r\n\r\n")) << wire;

    RawConnection keep_alive(d.port());
    const std::string request = " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_TRUE(keep_alive.send("GET " + path("/stream/5000") + request));
    auto r = keep_alive.read_response();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Transfer-Encoding").value_or(""), "chunked");
    EXPECT_TRUE(r->body.starts_with("line 0\nline 1\n")) << r->body.substr(0, 100);
    EXPECT_TRUE(r->body.ends_with("\nline 4999\n")) << r->body.substr(r->body.size() - std::min<size_t>(r->body.size(), 100));
    EXPECT_EQ(std::count(r->body.begin(), r->body.end(), '\n'), 5000);
    ASSERT_TRUE(keep_alive.send("GET " + path("/stream/0") + request));
    auto empty = keep_alive.read_response();
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->status, 200);
    EXPECT_EQ(empty->body, "");

    EXPECT_TRUE(is_error_response(get(url("/stream/x")), 400, "GET", path("/stream/x")));
}
