// Answers the host gives itself, before or instead of a plugin: unknown
// plugins and routes, wrong methods, oversized bodies, paths that try to walk
// out of a plugin's prefix, and the health endpoints.
#include <string>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

TEST(IntegrationHttpErrors, UnknownPluginIs404) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_TRUE(is_error_response(get(d.url("/api/nope/x")), 404, "GET", "/api/nope/x", "NotFoundError"));
}

TEST(IntegrationHttpErrors, UnknownRouteOfAKnownPluginIs404) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_TRUE(is_error_response(get(d.url("/api/hello/a/b/c")), 404, "GET", "/api/hello/a/b/c", "NotFoundError"));
}

TEST(IntegrationHttpErrors, PathOutsideApiIs404) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_TRUE(is_error_response(get(d.url("/elsewhere")), 404, "GET", "/elsewhere", "NotFoundError"));
    EXPECT_TRUE(is_error_response(get(d.url("/api/")), 404, "GET", "/api/", "NotFoundError"));
}

TEST(IntegrationHttpErrors, WrongMethodIs405WithAllow) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Request req;
    req.method = "DELETE";
    req.url = d.url("/api/hello/Alice");
    auto r = perform(req);
    EXPECT_TRUE(is_error_response(r, 405, "DELETE", "/api/hello/Alice"));
    auto allow = r.header("Allow");
    ASSERT_TRUE(allow.has_value()) << "no Allow header";
    EXPECT_NE(allow->find("GET"), std::string::npos) << *allow;
    EXPECT_EQ(allow->find("DELETE"), std::string::npos) << *allow;
}

TEST(IntegrationHttpErrors, BodyOverTheLimitIs413) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_request_body", "1KiB")));
    auto over = post(d.url("/api/echo/upload"), std::string(4096, 'x'));
    EXPECT_TRUE(is_error_response(over, 413, "POST", "/api/echo/upload"));

    auto at_limit = post(d.url("/api/echo/upload"), std::string(1024, 'y'));
    ASSERT_EQ(at_limit.status, 200) << at_limit.error << at_limit.body;
    EXPECT_EQ(json_string(parse_json(at_limit.body), "body"), std::string(1024, 'y'));
}

// A chunked body announces no length; the limit must still hold.
TEST(IntegrationHttpErrors, ChunkedBodyOverTheLimitIs413) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_request_body", "1KiB")));
    std::string bytes =
        "POST /api/echo/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < 4; ++i) bytes += "400\r\n" + std::string(1024, 'z') + "\r\n";
    bytes += "0\r\n\r\n";
    auto r = raw_exchange(d.port(), bytes);
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_TRUE(is_error_response(*r, 413, "POST", "/api/echo/upload"));
}

// Each of these would reach another plugin, or the echo plugin with a
// separator inside a segment, if the host did not refuse it.
struct Traversal {
    const char* name;
    const char* target;
};

void PrintTo(const Traversal& t, std::ostream* os) { *os << t.target; }

class IntegrationPathTraversal : public ::testing::TestWithParam<Traversal> {};

TEST_P(IntegrationPathTraversal, IsRefusedWith400) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    std::string target = GetParam().target;
    auto r = raw_exchange(d.port(), raw_get(target));
    ASSERT_TRUE(r.has_value()) << "no response";
    EXPECT_TRUE(is_error_response(*r, 400, "GET", target, "InputError"));
    // Nothing reached echo: it would have answered 200 with a JSON echo.
    EXPECT_EQ(r->body.find("\"raw_path\""), std::string::npos) << r->body;
}

INSTANTIATE_TEST_SUITE_P(Targets, IntegrationPathTraversal,
                         ::testing::Values(Traversal{"dot_dot", "/api/hello/../echo/x"},
                                           Traversal{"encoded_dot_dot", "/api/hello/%2e%2e/echo/x"},
                                           Traversal{"encoded_dot_dot_upper", "/api/hello/%2E%2E/echo/x"},
                                           Traversal{"half_encoded_dot_dot", "/api/hello/.%2e/echo/x"},
                                           Traversal{"dot_dot_above_api", "/api/../api/echo/x"},
                                           Traversal{"dot_dot_encoded_slash", "/api/hello/..%2Fecho/x"},
                                           Traversal{"dot_dot_between_encoded_slashes", "/api/echo/a%2F..%2F..%2Fhello/x"},
                                           Traversal{"encoded_backslash_dot_dot", "/api/echo/..%5Chello"},
                                           Traversal{"encoded_slash_in_plugin_id", "/api/hello%2F..%2Fecho/x"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(IntegrationHealth, LivenessAndReadinessAnswer200WhileServing) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto live = get(d.url("/.kerberus/health/v1/liveness"));
    EXPECT_EQ(live.status, 200) << live.error << live.body;
    auto ready = get(d.url("/.kerberus/health/v1/readiness"));
    EXPECT_EQ(ready.status, 200) << ready.error << ready.body;
}

}  // namespace
}  // namespace kerberus::test
