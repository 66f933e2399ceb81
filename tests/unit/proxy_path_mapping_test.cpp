// The proxy plugin's way from a request path to an upstream URL
// (plugins/proxy/path_mapping), without loading the plugin: what
// tests/fuzz/fuzz_proxy_path found.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <utility>

#include "path_mapping.h"

namespace proxy {
namespace {

Endpoint rewriting(const std::string& pattern, std::string replacement) {
    Endpoint ep;
    ep.key = "/svc";
    ep.key_segments = 1;
    ep.target = TargetUrl{"http://h/v2", "", "h"};
    ep.path_rewrite.push_back({std::regex(pattern, std::regex::ECMAScript), std::move(replacement)});
    return ep;
}

std::string repeated(std::string_view piece, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += piece;
    return out;
}

// pathRewrite rules see the path as the client sent it, as Backstage's do;
// what a URL cannot hold is escaped in what they make.
TEST(ProxyPathMapping, RewriteRulesSeeThePathAsSent) {
    Endpoint ep = rewriting("^/api/proxy/svc/([|]+)$", "/pipes/$1");
    EXPECT_EQ(upstream_url(ep, "/api/proxy/svc/|||", "q=1"), "http://h/v2/pipes/%7C%7C%7C?q=1");
    EXPECT_EQ(upstream_url(ep, "/api/proxy/svc/%7C", ""), "http://h/v2/api/proxy/svc/%7C");
}

// The input of std::regex is never longer than the raw path, which
// kMaxPathBytes bounds: escaping it first made each of these bytes three.
TEST(ProxyPathMapping, RewriteInputIsNoLongerThanTheRawPath) {
    Endpoint ep = rewriting("^.{0,23}$", "/short");
    EXPECT_EQ(upstream_url(ep, "/api/proxy/svc/\"<>^`{|}", ""), "http://h/v2/short");
}

// fuzz_proxy_path's input (tests/fuzz/corpus/fuzz_proxy_path/
// defect-rewrite-escaped-path-stack-overflow): a path of '|' under a
// capture rule, escaped before the regex ran, made std::regex's recursion
// overflow an 8 MiB stack in sanitizer builds. Here at half the length
// kMaxPathBytes allows: at the full length a sanitizer build's frames
// overflow 8 MiB even on a path with nothing to escape.
TEST(ProxyPathMapping, LongPathOfBytesToEscapeUnderACaptureRule) {
    const std::size_t n = kMaxPathBytes / 2;
    const std::string raw = "/api/proxy/svc/" + std::string(n, '|');
    Endpoint ep = rewriting("^/api/proxy/svc/(.*)$", "/x/$1");
    EXPECT_EQ(upstream_url(ep, raw, ""), "http://h/v2/x/" + repeated("%7C", n));
}

}  // namespace
}  // namespace proxy
