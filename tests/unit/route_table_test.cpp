#include "http/route_table.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace kerberus::http {
namespace {

using Kind = MatchResult::Kind;

std::string_view param(const RouteParams& p, std::string_view name)
{
    for (std::size_t i = 0; i < p.count; ++i)
        if (p.items[i].name == name)
            return p.items[i].value;
    ADD_FAILURE() << "no parameter " << name;
    return {};
}

class RouteTableTest : public ::testing::Test {
protected:
    void add(std::string_view method, std::string_view pattern, std::size_t target)
    {
        ASSERT_EQ(table.add(method, pattern, target), AddResult::ok) << method << " " << pattern;
    }

    // The target found, or -1 when not found, -2 for method_not_allowed.
    long target(std::string_view method, std::string_view path)
    {
        const MatchResult r = table.match(method, path, params);
        if (r.kind == Kind::not_found)
            return -1;
        if (r.kind == Kind::method_not_allowed)
            return -2;
        return static_cast<long>(r.target);
    }

    std::string allow(std::string_view method, std::string_view path)
    {
        const MatchResult r = table.match(method, path, params);
        EXPECT_EQ(r.kind, Kind::method_not_allowed) << method << " " << path;
        return r.allow;
    }

    RouteTable table;
    RouteParams params;
};

TEST_F(RouteTableTest, EmptyTable)
{
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(target("GET", "/"), -1);
    add("GET", "/", 0);
    EXPECT_FALSE(table.empty());
}

TEST_F(RouteTableTest, RootPattern)
{
    add("GET", "/", 7);
    EXPECT_EQ(target("GET", "/"), 7);
    EXPECT_EQ(params.count, 0u);
    EXPECT_EQ(target("GET", "/x"), -1);
    EXPECT_EQ(target("GET", "/x/"), -1);
}

TEST_F(RouteTableTest, LiteralPaths)
{
    add("GET", "/hello", 1);
    add("GET", "/hello/world", 2);
    EXPECT_EQ(target("GET", "/hello"), 1);
    EXPECT_EQ(target("GET", "/hello/world"), 2);
    EXPECT_EQ(target("GET", "/hello/world/x"), -1);
    EXPECT_EQ(target("GET", "/hell"), -1);
    EXPECT_EQ(target("GET", "/helloo"), -1);
    EXPECT_EQ(target("GET", "/"), -1);
}

TEST_F(RouteTableTest, LiteralsAreCaseSensitive)
{
    add("GET", "/Items", 1);
    EXPECT_EQ(target("GET", "/Items"), 1);
    EXPECT_EQ(target("GET", "/items"), -1);
    EXPECT_EQ(target("GET", "/ITEMS"), -1);
}

TEST_F(RouteTableTest, TrailingSlashInsignificant)
{
    add("GET", "/a", 1);
    add("GET", "/b/", 2);
    EXPECT_EQ(target("GET", "/a"), 1);
    EXPECT_EQ(target("GET", "/a/"), 1);
    EXPECT_EQ(target("GET", "/b"), 2);
    EXPECT_EQ(target("GET", "/b/"), 2);
}

TEST_F(RouteTableTest, NamedParameters)
{
    add("GET", "/items/:id", 1);
    add("GET", "/users/:user/posts/:post_id", 2);
    ASSERT_EQ(target("GET", "/items/42"), 1);
    ASSERT_EQ(params.count, 1u);
    EXPECT_EQ(params.items[0].name, "id");
    EXPECT_EQ(params.items[0].value, "42");

    ASSERT_EQ(target("GET", "/users/ann/posts/7/"), 2);
    ASSERT_EQ(params.count, 2u);
    EXPECT_EQ(param(params, "user"), "ann");
    EXPECT_EQ(param(params, "post_id"), "7");
}

TEST_F(RouteTableTest, ParameterValuesAreViewsIntoPath)
{
    add("GET", "/items/:id", 1);
    const std::string path = "/items/abc def";
    ASSERT_EQ(target("GET", path), 1);
    EXPECT_EQ(params.items[0].value.data(), path.data() + 7);
    EXPECT_EQ(params.items[0].value, "abc def");
}

TEST_F(RouteTableTest, ParameterNeedsNonEmptySegment)
{
    add("GET", "/items/:id", 1);
    EXPECT_EQ(target("GET", "/items"), -1);
    EXPECT_EQ(target("GET", "/items/"), -1);
    EXPECT_EQ(target("GET", "/items/1/2"), -1);
}

TEST_F(RouteTableTest, Wildcard)
{
    add("GET", "/files/*", 1);
    ASSERT_EQ(target("GET", "/files/a/b"), 1);
    ASSERT_EQ(params.count, 1u);
    EXPECT_EQ(params.items[0].name, "*");
    EXPECT_EQ(params.items[0].value, "a/b");
    ASSERT_EQ(target("GET", "/files/a"), 1);
    EXPECT_EQ(param(params, "*"), "a");
    ASSERT_EQ(target("GET", "/files"), 1);
    EXPECT_EQ(param(params, "*"), "");
    ASSERT_EQ(target("GET", "/files/"), 1);
    EXPECT_EQ(param(params, "*"), "");
    ASSERT_EQ(target("GET", "/files/a/b/"), 1);
    EXPECT_EQ(param(params, "*"), "a/b/");
    EXPECT_EQ(target("GET", "/filesx"), -1);
    EXPECT_EQ(target("GET", "/"), -1);
}

TEST_F(RouteTableTest, RootWildcard)
{
    add("*", "/*", 1);
    ASSERT_EQ(target("GET", "/"), 1);
    EXPECT_EQ(param(params, "*"), "");
    ASSERT_EQ(target("PUT", "/x/y/z"), 1);
    EXPECT_EQ(param(params, "*"), "x/y/z");
}

TEST_F(RouteTableTest, WildcardAfterParameter)
{
    add("GET", "/repo/:name/*", 1);
    ASSERT_EQ(target("GET", "/repo/kerberus/src/main.cpp"), 1);
    ASSERT_EQ(params.count, 2u);
    EXPECT_EQ(params.items[0].name, "name");
    EXPECT_EQ(params.items[0].value, "kerberus");
    EXPECT_EQ(params.items[1].name, "*");
    EXPECT_EQ(params.items[1].value, "src/main.cpp");
    EXPECT_EQ(target("GET", "/repo"), -1);
    ASSERT_EQ(target("GET", "/repo/x"), 1);
    EXPECT_EQ(param(params, "*"), "");
}

TEST_F(RouteTableTest, LiteralBeatsParamBeatsRest)
{
    add("GET", "/items/*", 3);
    add("GET", "/items/:id", 2);
    add("GET", "/items/new", 1);
    EXPECT_EQ(target("GET", "/items/new"), 1);
    EXPECT_EQ(params.count, 0u);
    ASSERT_EQ(target("GET", "/items/42"), 2);
    EXPECT_EQ(param(params, "id"), "42");
    ASSERT_EQ(target("GET", "/items/42/x"), 3);
    EXPECT_EQ(param(params, "*"), "42/x");
    ASSERT_EQ(target("GET", "/items"), 3);
    EXPECT_EQ(param(params, "*"), "");
}

TEST_F(RouteTableTest, RegistrationOrderDoesNotMatter)
{
    add("GET", "/items/new", 1);
    add("GET", "/items/:id", 2);
    add("GET", "/items/*", 3);
    EXPECT_EQ(target("GET", "/items/new"), 1);
    EXPECT_EQ(target("GET", "/items/42"), 2);
    EXPECT_EQ(target("GET", "/items/42/x"), 3);
}

TEST_F(RouteTableTest, ExactPathBeatsWildcardMatchingEmptyRest)
{
    add("GET", "/files/*", 2);
    add("GET", "/files", 1);
    EXPECT_EQ(target("GET", "/files"), 1);
    EXPECT_EQ(target("GET", "/files/"), 1);
    EXPECT_EQ(target("GET", "/files/x"), 2);
}

TEST_F(RouteTableTest, EarlierSegmentDecides)
{
    // Segment by segment: the literal "b" in the second segment outranks ":x"
    // there, even though the third segment is "c" against "*".
    add("GET", "/a/:x/c", 1);
    add("GET", "/a/b/*", 2);
    ASSERT_EQ(target("GET", "/a/b/c"), 2);
    EXPECT_EQ(param(params, "*"), "c");
    ASSERT_EQ(target("GET", "/a/z/c"), 1);
    EXPECT_EQ(param(params, "x"), "z");
}

TEST_F(RouteTableTest, ParamBeforeLiteralVersusLiteralBeforeParam)
{
    add("GET", "/:kind/list", 1);
    add("GET", "/users/:id", 2);
    EXPECT_EQ(target("GET", "/users/list"), 2);
    EXPECT_EQ(target("GET", "/groups/list"), 1);
    EXPECT_EQ(target("GET", "/users/7"), 2);
}

TEST_F(RouteTableTest, ExactMethodBeatsAnyOnSameShape)
{
    add("*", "/items/:id", 1);
    add("GET", "/items/:id", 2);
    EXPECT_EQ(target("GET", "/items/1"), 2);
    EXPECT_EQ(target("POST", "/items/1"), 1);
    EXPECT_EQ(target("DELETE", "/items/1"), 1);
}

TEST_F(RouteTableTest, MoreSpecificShapeBeatsExactMethod)
{
    add("GET", "/items/:id", 1);
    add("*", "/items/new", 2);
    EXPECT_EQ(target("GET", "/items/new"), 2);
    EXPECT_EQ(target("GET", "/items/old"), 1);
}

TEST_F(RouteTableTest, LessSpecificShapeServesOtherMethods)
{
    add("GET", "/items/new", 1);
    add("*", "/items/:id", 2);
    EXPECT_EQ(target("GET", "/items/new"), 1);
    EXPECT_EQ(target("POST", "/items/new"), 2);  // the "*" route accepts it
}

TEST_F(RouteTableTest, SameShapeDifferentNamesPerMethod)
{
    add("GET", "/items/:id", 1);
    add("PUT", "/items/:name", 2);
    ASSERT_EQ(target("GET", "/items/x"), 1);
    EXPECT_EQ(params.items[0].name, "id");
    ASSERT_EQ(target("PUT", "/items/x"), 2);
    EXPECT_EQ(params.items[0].name, "name");
    EXPECT_EQ(params.count, 1u);
}

TEST_F(RouteTableTest, HeadFallsBackToGet)
{
    add("GET", "/a", 1);
    EXPECT_EQ(target("HEAD", "/a"), 1);
}

TEST_F(RouteTableTest, ExplicitHeadBeatsGet)
{
    add("GET", "/a", 1);
    add("HEAD", "/a", 2);
    EXPECT_EQ(target("HEAD", "/a"), 2);
    EXPECT_EQ(target("GET", "/a"), 1);
}

TEST_F(RouteTableTest, HeadPrefersGetOverAny)
{
    add("*", "/a", 1);
    add("GET", "/a", 2);
    EXPECT_EQ(target("HEAD", "/a"), 2);
    EXPECT_EQ(target("OPTIONS", "/a"), 1);
}

TEST_F(RouteTableTest, HeadFollowsSpecificityFirst)
{
    add("HEAD", "/files/*", 1);
    add("GET", "/files/:name", 2);
    EXPECT_EQ(target("HEAD", "/files/x"), 2);
    EXPECT_EQ(target("HEAD", "/files/x/y"), 1);
}

TEST_F(RouteTableTest, GetDoesNotFallBackToHead)
{
    add("HEAD", "/a", 1);
    EXPECT_EQ(allow("GET", "/a"), "HEAD");
}

TEST_F(RouteTableTest, MethodNotAllowedListsMatchingRoutes)
{
    add("POST", "/items", 1);
    add("GET", "/items", 2);
    add("DELETE", "/other", 3);
    EXPECT_EQ(allow("PUT", "/items"), "GET, HEAD, POST");
    EXPECT_EQ(allow("PUT", "/items/"), "GET, HEAD, POST");
    EXPECT_EQ(allow("GET", "/other"), "DELETE");
    EXPECT_EQ(params.count, 0u);
}

TEST_F(RouteTableTest, AllowListSortedAndDeduplicated)
{
    add("PUT", "/items/:id", 1);
    add("GET", "/items/:id", 2);
    add("HEAD", "/items/:id", 3);
    add("GET", "/items/*", 4);
    add("DELETE", "/items/special", 5);
    EXPECT_EQ(allow("PATCH", "/items/1"), "GET, HEAD, PUT");
    EXPECT_EQ(allow("PATCH", "/items/special"), "DELETE, GET, HEAD, PUT");
    EXPECT_EQ(allow("PATCH", "/items/a/b"), "GET, HEAD");
}

TEST_F(RouteTableTest, AnyMethodRoutePreventsMethodNotAllowed)
{
    add("GET", "/items/:id", 1);
    add("*", "/items/*", 2);
    EXPECT_EQ(target("POST", "/items/1"), 2);
    EXPECT_EQ(target("BREW", "/items/1"), 2);
}

TEST_F(RouteTableTest, MethodsAreCaseSensitive)
{
    add("GET", "/a", 1);
    EXPECT_EQ(allow("get", "/a"), "GET, HEAD");
}

TEST_F(RouteTableTest, NotFoundWhenNoPatternMatches)
{
    add("GET", "/a", 1);
    const MatchResult r = table.match("POST", "/b", params);
    EXPECT_EQ(r.kind, Kind::not_found);
    EXPECT_TRUE(r.allow.empty());
}

TEST_F(RouteTableTest, PathsNotStartingWithSlashNeverMatch)
{
    add("*", "/*", 1);
    EXPECT_EQ(target("GET", ""), -1);
    EXPECT_EQ(target("GET", "a"), -1);
}

TEST_F(RouteTableTest, ParamsClearedOnEachMatch)
{
    add("GET", "/items/:id", 1);
    ASSERT_EQ(target("GET", "/items/1"), 1);
    EXPECT_EQ(params.count, 1u);
    EXPECT_EQ(target("GET", "/nothing"), -1);
    EXPECT_EQ(params.count, 0u);
}

TEST_F(RouteTableTest, TargetsAreReturnedAsGiven)
{
    add("GET", "/a", 12345);
    add("POST", "/a", 0);
    EXPECT_EQ(target("GET", "/a"), 12345);
    EXPECT_EQ(target("POST", "/a"), 0);
}

TEST_F(RouteTableTest, Conflicts)
{
    add("GET", "/items/:id", 1);
    EXPECT_EQ(table.add("GET", "/items/:id", 2), AddResult::conflict);
    EXPECT_EQ(table.add("GET", "/items/:other", 2), AddResult::conflict);
    EXPECT_EQ(table.add("GET", "/items/:id/", 2), AddResult::conflict);
    EXPECT_EQ(table.add("POST", "/items/:id", 2), AddResult::ok);
    EXPECT_EQ(table.add("*", "/items/:id", 3), AddResult::ok);
    EXPECT_EQ(table.add("*", "/items/:x", 4), AddResult::conflict);
    EXPECT_EQ(table.add("GET", "/items/new", 5), AddResult::ok);
    EXPECT_EQ(table.add("GET", "/items/*", 6), AddResult::ok);
    EXPECT_EQ(table.add("GET", "/items/*/", 7), AddResult::conflict);
    EXPECT_EQ(table.add("GET", "/Items/:id", 8), AddResult::ok);

    add("GET", "/", 9);
    EXPECT_EQ(table.add("GET", "/", 10), AddResult::conflict);
    add("GET", "/a", 11);
    EXPECT_EQ(table.add("GET", "/a/", 12), AddResult::conflict);
    // The conflicting registrations left the table as it was.
    EXPECT_EQ(target("GET", "/items/1"), 1);
    EXPECT_EQ(target("GET", "/a"), 11);
}

TEST_F(RouteTableTest, InvalidPatterns)
{
    for (std::string_view bad : {"", "a", "items/:id", "/a//b", "//", "//a", "/a//", "/*/a", "/a/*/b", "/a*",
                                 "/*a", "/a/b*", "/:", "/:/x", "/:a-b", "/:a.b", "/:a:b", "/:id/:id", "/.", "/..",
                                 "/a/../b", "/a/./b", "/a\\b", "/a\tb", "/**"}) {
        EXPECT_EQ(table.add("GET", bad, 0), AddResult::invalid_pattern) << bad;
    }
    EXPECT_EQ(table.add("GET", std::string_view("/a\0b", 4), 0), AddResult::invalid_pattern);
    EXPECT_TRUE(table.empty());
}

TEST_F(RouteTableTest, ValidUnusualPatterns)
{
    add("GET", "/v1/items:batchGet", 1);  // ':' inside a literal is text
    add("GET", "/:_x9/y", 2);
    add("GET", "/...", 3);
    add("GET", "/caf\xc3\xa9", 4);  // UTF-8, compared with the decoded path
    add("GET", "/a;b=c,d@e!$&'()+", 5);
    EXPECT_EQ(target("GET", "/v1/items:batchGet"), 1);
    EXPECT_EQ(target("GET", "/q/y"), 2);
    EXPECT_EQ(param(params, "_x9"), "q");
    EXPECT_EQ(target("GET", "/..."), 3);
    EXPECT_EQ(target("GET", "/caf\xc3\xa9"), 4);
    EXPECT_EQ(target("GET", "/a;b=c,d@e!$&'()+"), 5);
}

// A pattern that can never match as written is refused with the reason.
TEST_F(RouteTableTest, InvalidPatternsSayWhy)
{
    struct Case {
        const char* pattern;
        const char* why;
    };
    for (const Case& c : {
             Case{"/:name?", "optional parameters (:name?) are not supported: register the route with and without the segment"},
             Case{"/*/x", "'*' takes the rest of the path, so it can only be the last segment"},
             Case{"/:name/:name", "parameter :name appears twice"},
             Case{"/files/*rest", "'*' stands alone as the last segment (for a named parameter, write :name)"},
             Case{"/a//b", "an empty segment ('//'): paths are normalised, so it could never match"},
             Case{"/:na-me", "parameter names are letters, digits and '_' (:na-me has '-')"},
             Case{"/{name}", "'{name}' is not a parameter here: write :name"},
             Case{"/a b", "' ' is not a path character: clients send it percent-encoded"},
             Case{"/a%20b", "'%' is not a path character: clients send it percent-encoded (write the decoded character)"},
             Case{"/a?b", "'?' is not a path character: clients send it percent-encoded"},
             Case{"/..", "a '.' or '..' segment never survives path normalisation"},
             Case{"/:", "':' must be followed by the parameter's name, as in :id"},
             Case{"x", "a pattern starts with '/'"},
         }) {
        std::string why;
        EXPECT_EQ(table.add("GET", c.pattern, 0, &why), AddResult::invalid_pattern) << c.pattern;
        EXPECT_EQ(why, c.why) << c.pattern;
    }
    EXPECT_TRUE(table.empty());
}

TEST_F(RouteTableTest, ParameterLimit)
{
    std::string sixteen;
    for (int i = 0; i < 16; ++i)
        sixteen += "/:p" + std::to_string(i);
    EXPECT_EQ(table.add("GET", sixteen, 1), AddResult::ok);
    EXPECT_EQ(table.add("GET", sixteen + "/:p16", 2), AddResult::invalid_pattern);
    EXPECT_EQ(table.add("GET", sixteen + "/*", 2), AddResult::invalid_pattern);

    std::string fifteen_and_rest;
    for (int i = 0; i < 15; ++i)
        fifteen_and_rest += "/lit/:q" + std::to_string(i);
    EXPECT_EQ(table.add("POST", fifteen_and_rest + "/*", 3), AddResult::ok);

    std::string path;
    for (int i = 0; i < 16; ++i)
        path += "/v" + std::to_string(i);
    ASSERT_EQ(target("GET", path), 1);
    ASSERT_EQ(params.count, 16u);
    EXPECT_EQ(param(params, "p0"), "v0");
    EXPECT_EQ(param(params, "p15"), "v15");
}

TEST_F(RouteTableTest, InvalidMethods)
{
    for (std::string_view bad : {"", "get", "Get", "GE T", "GET\r", "G(ET", "GET/", "**x\t", "é"})
        EXPECT_EQ(table.add(bad, "/", 0), AddResult::invalid_method) << bad;
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(table.add("M-SEARCH", "/", 0), AddResult::ok);
    EXPECT_EQ(table.add("PROPFIND", "/", 0), AddResult::ok);
    EXPECT_EQ(table.add("X_CUSTOM.1", "/", 0), AddResult::ok);
    EXPECT_EQ(table.add("*", "/", 0), AddResult::ok);
}

TEST_F(RouteTableTest, MethodCheckedBeforePattern)
{
    EXPECT_EQ(table.add("get", "bad", 0), AddResult::invalid_method);
}

TEST_F(RouteTableTest, TypicalPluginTable)
{
    add("GET", "/", 0);
    add("GET", "/health", 1);
    add("GET", "/items", 2);
    add("POST", "/items", 3);
    add("GET", "/items/:id", 4);
    add("PUT", "/items/:id", 5);
    add("DELETE", "/items/:id", 6);
    add("GET", "/items/:id/history", 7);
    add("GET", "/items/export", 8);
    add("GET", "/static/*", 9);
    add("*", "/proxy/*", 10);
    add("GET", "/users/:user/items/:id", 11);

    EXPECT_EQ(target("GET", "/"), 0);
    EXPECT_EQ(target("HEAD", "/health"), 1);
    EXPECT_EQ(target("GET", "/items/"), 2);
    EXPECT_EQ(target("POST", "/items"), 3);
    EXPECT_EQ(target("GET", "/items/9"), 4);
    EXPECT_EQ(target("PUT", "/items/9"), 5);
    EXPECT_EQ(target("DELETE", "/items/9"), 6);
    EXPECT_EQ(target("GET", "/items/9/history"), 7);
    EXPECT_EQ(target("GET", "/items/export"), 8);
    EXPECT_EQ(target("GET", "/static/css/site.css"), 9);
    EXPECT_EQ(param(params, "*"), "css/site.css");
    EXPECT_EQ(target("PATCH", "/proxy/a/b"), 10);
    EXPECT_EQ(target("GET", "/users/u/items/i"), 11);
    EXPECT_EQ(param(params, "user"), "u");
    EXPECT_EQ(param(params, "id"), "i");
    EXPECT_EQ(allow("POST", "/items/9"), "DELETE, GET, HEAD, PUT");
    EXPECT_EQ(allow("POST", "/items/export"), "DELETE, GET, HEAD, PUT");
    EXPECT_EQ(target("PUT", "/items/export"), 5);  // a less specific shape accepts it
    EXPECT_EQ(allow("DELETE", "/items"), "GET, HEAD, POST");
    EXPECT_EQ(target("GET", "/nope"), -1);
    EXPECT_EQ(target("GET", "/items/9/history/x"), -1);
}

TEST_F(RouteTableTest, ConcurrentReaders)
{
    add("GET", "/items/:id", 1);
    add("GET", "/files/*", 2);
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([this, t, &failures] {
            RouteParams local;
            for (int i = 0; i < 2000; ++i) {
                const MatchResult a = table.match("GET", "/items/x", local);
                if (a.kind != Kind::found || a.target != 1 || local.items[0].value != "x")
                    ++failures[t];
                const MatchResult b = table.match("GET", "/files/a/b", local);
                if (b.kind != Kind::found || b.target != 2 || local.items[0].value != "a/b")
                    ++failures[t];
            }
        });
    }
    for (std::thread& th : threads)
        th.join();
    for (int f : failures)
        EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace kerberus::http
