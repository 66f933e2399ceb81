// The bundled hello plugin, end to end: routing below /api/hello, route
// parameters, percent-decoding and the plugin's own config namespace.
#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

TEST(IntegrationHello, GreetsTheWorldAtItsPrefix) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/hello/"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "Hello, world!\n");
    EXPECT_TRUE(r.header("Content-Type").value_or("").starts_with("text/plain")) << r.header("Content-Type").value_or("");
}

TEST(IntegrationHello, PrefixWithoutTrailingSlashIsTheSameRoute) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/hello"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "Hello, world!\n");
}

TEST(IntegrationHello, GreetsByName) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/hello/Alice"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "Hello, Alice!\n");
}

TEST(IntegrationHello, DecodesThePercentEncodedName) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/hello/J%C3%BCrgen%20M"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "Hello, J\xC3\xBCrgen M!\n");
}

TEST(IntegrationHello, UsesTheConfiguredGreeting) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("hello", "config: { greeting: Howdy }")));
    EXPECT_EQ(get(d.url("/api/hello/")).body, "Howdy, world!\n");
    EXPECT_EQ(get(d.url("/api/hello/Bob")).body, "Howdy, Bob!\n");
}

// Over one raw connection: a body after the HEAD answer would be read as
// the start of the next response.
TEST(IntegrationHello, HeadIsAnsweredByTheGetRouteWithoutBody) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("HEAD /api/hello/Alice HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    auto head = c.read_response(5s, /*head_request=*/true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    ASSERT_TRUE(c.send(raw_get("/api/hello/Bob")));
    auto next = c.read_response(5s);
    ASSERT_TRUE(next.has_value()) << "no well-formed response after HEAD";
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->body, "Hello, Bob!\n");
}

TEST(IntegrationHello, RepeatedSlashesAreMerged) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(), raw_get("/api//hello///Bob"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->body, "Hello, Bob!\n");
}

}  // namespace
}  // namespace kerberus::test
