// Which URLs the plain-http client takes (IP literals only; the rest goes to
// libcurl) and the request bytes it writes for them.
#include <gtest/gtest.h>

#include <string>

#include "outbound/plain_request.h"

namespace kerberus::outbound {
namespace {

TEST(OutboundPlainUrl, TakesIpLiteralsAndKeepsTheTargetAsGiven) {
    auto v4 = parse_plain_url("http://127.0.0.1:8080/a/../b%2F?q=a%20b#frag");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->authority, "127.0.0.1:8080");
    EXPECT_EQ(v4->host_header, "127.0.0.1:8080");
    EXPECT_EQ(v4->target, "/a/../b%2F?q=a%20b");
    EXPECT_EQ(v4->address.ss_family, AF_INET);

    auto v6 = parse_plain_url("http://[0:0:0:0:0:0:0:1]:9000");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->authority, "[::1]:9000");
    EXPECT_EQ(v6->target, "");
    EXPECT_EQ(v6->address.ss_family, AF_INET6);

    auto default_port = parse_plain_url("http://10.1.2.3?x=1");
    ASSERT_TRUE(default_port.has_value());
    EXPECT_EQ(default_port->authority, "10.1.2.3:80");
    EXPECT_EQ(default_port->host_header, "10.1.2.3");
    EXPECT_EQ(default_port->target, "?x=1");
}

// Host names go to the plain engine too, which resolves them off its thread.
TEST(OutboundPlainUrl, TakesHostNamesToResolve) {
    auto named = parse_plain_url("http://Upstream-1.example.com:8080/v1?x");
    ASSERT_TRUE(named.has_value());
    EXPECT_EQ(named->host_name, "Upstream-1.example.com");
    EXPECT_EQ(named->port, 8080);
    EXPECT_EQ(named->address_len, 0u);
    EXPECT_EQ(named->authority, "Upstream-1.example.com:8080");
    EXPECT_EQ(named->host_header, "Upstream-1.example.com:8080");
    auto local = parse_plain_url("http://localhost/");
    ASSERT_TRUE(local.has_value());
    EXPECT_EQ(local->host_header, "localhost");
    EXPECT_EQ(local->port, 80);
    auto literal = parse_plain_url("http://127.0.0.1:81/");
    ASSERT_TRUE(literal.has_value());
    EXPECT_TRUE(literal->host_name.empty());
}

TEST(OutboundPlainUrl, LeavesEverythingElseToLibcurl) {
    for (const char* url : {"https://127.0.0.1/", "https://example.com/", "http://127.1/", "http://a..b/",
                            "http://-a.com/", "http://ex%41mple.com/", "http://under_score.com/",
                            "http://u:p@127.0.0.1/", "http://127.0.0.1:/", "http://127.0.0.1:0/",
                            "http://127.0.0.1:65536/", "http://127.0.0.1:+80/", "http://[fe80::1%25eth0]/",
                            "http://[::1/", "http://127.0.0.1/a b", "http://127.0.0.1/\xc3\xa9", "http:///x"}) {
        EXPECT_FALSE(parse_plain_url(url).has_value()) << url;
    }
}

kerberus_outbound_request request_with(const kerberus_header* headers, std::size_t count, const char* body) {
    kerberus_outbound_request r{};
    r.struct_size = sizeof r;
    r.headers = headers;
    r.header_count = count;
    r.body = body;
    r.body_len = body ? std::char_traits<char>::length(body) : 0;
    return r;
}

TEST(OutboundPlainRequest, WritesHostCallerHeadersAndFramesTheBody) {
    const kerberus_header headers[] = {{{"X-One", 5}, {"1", 1}},
                                       {{"content-length", 14}, {"999", 3}},
                                       {{"Transfer-Encoding", 17}, {"chunked", 7}},
                                       {{"X-Empty", 7}, {"", 0}}};
    auto url = parse_plain_url("http://127.0.0.1:81/p?q");
    ASSERT_TRUE(url.has_value());
    auto r = request_with(headers, 4, "body");
    std::string out;
    write_request(out, "POST", *url, r);
    EXPECT_EQ(out, "POST /p?q HTTP/1.1\r\nHost: 127.0.0.1:81\r\nX-One: 1\r\nX-Empty:\r\nContent-Length: 4\r\n\r\nbody");

    out.clear();
    auto empty = request_with(nullptr, 0, nullptr);
    write_request(out, "PUT", *parse_plain_url("http://127.0.0.1"), empty);
    EXPECT_EQ(out, "PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");

    out.clear();
    write_request(out, "HEAD", *url, request_with(nullptr, 0, "ignored"));
    EXPECT_EQ(out, "HEAD /p?q HTTP/1.1\r\nHost: 127.0.0.1:81\r\n\r\n");
}

TEST(OutboundPlainRequest, CallersHostWinsInItsPlace) {
    const kerberus_header headers[] = {{{"Accept", 6}, {"*/*", 3}}, {{"host", 4}, {"svc.example", 11}}};
    std::string out;
    write_request(out, "GET", *parse_plain_url("http://127.0.0.1:81/"), request_with(headers, 2, nullptr));
    EXPECT_EQ(out, "GET / HTTP/1.1\r\nAccept: */*\r\nhost: svc.example\r\n\r\n");
}

TEST(OutboundPlainRequest, ConnectionCloseFromTheCaller) {
    const kerberus_header close[] = {{{"Connection", 10}, {"TE, Close", 9}}};
    const kerberus_header keep[] = {{{"Connection", 10}, {"keep-alive", 10}}};
    EXPECT_TRUE(asks_to_close(request_with(close, 1, nullptr)));
    EXPECT_FALSE(asks_to_close(request_with(keep, 1, nullptr)));
}

}  // namespace
}  // namespace kerberus::outbound
