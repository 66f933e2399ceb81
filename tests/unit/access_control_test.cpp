// auth::AccessControl: which routes are public under the default policy,
// the plugin's marks and the operator's rules; static tokens, Bearer
// parsing and access restrictions; and when a remote key set is fetched.
#include <gtest/gtest.h>

#include <vector>

#include "auth/access_control.h"
#include "auth/remote_key_set.h"

namespace kerberus::auth {
namespace {

using Kind = Verdict::Kind;

config::ExternalAccess static_entry(std::string token, std::string subject, std::vector<std::string> plugins = {}) {
    config::ExternalAccess e;
    e.type = config::ExternalAccess::Type::static_token;
    e.token = std::move(token);
    e.subject = std::move(subject);
    e.plugins = std::move(plugins);
    e.key_path = "auth.externalAccess[0]";
    return e;
}

config::RouteAccessRule rule(std::string path, bool open, std::string method = "") {
    config::RouteAccessRule r;
    r.path = std::move(path);
    r.unauthenticated = open;
    r.method = std::move(method);
    return r;
}

AccessControl make(const config::Config& c) {
    return AccessControl(c, [](const std::string&) -> std::shared_ptr<RemoteKeySet> { return nullptr; });
}

TEST(AccessControl, RoutesNeedCredentialsUnlessMarkedOrDisabled) {
    config::Config c;
    AccessControl closed = make(c);
    EXPECT_FALSE(closed.route_is_public("p", "GET", "/x", false));
    EXPECT_TRUE(closed.route_is_public("p", "GET", "/x", true));
    c.auth.disable_default_policy = true;
    EXPECT_TRUE(make(c).route_is_public("p", "GET", "/x", false));
}

TEST(AccessControl, TheMostSpecificOperatorRuleWins) {
    config::Config c;
    config::PluginSettings& p = c.plugins["p"];
    p.allow_unauthenticated = true;
    p.route_access = {rule("/admin", false), rule("/admin/status", true), rule("/items", false, "GET")};
    AccessControl ac = make(c);
    EXPECT_TRUE(ac.route_is_public("p", "GET", "/other", false));        // the plugin-wide allow
    EXPECT_FALSE(ac.route_is_public("p", "GET", "/admin", true));        // over the plugin's mark
    EXPECT_FALSE(ac.route_is_public("p", "POST", "/admin/:id", true));   // a prefix at a '/'
    EXPECT_TRUE(ac.route_is_public("p", "GET", "/admin/status", false)); // longer path wins
    EXPECT_TRUE(ac.route_is_public("p", "GET", "/administer", false));   // not at a '/': plugin-wide
    EXPECT_FALSE(ac.route_is_public("p", "GET", "/items/:id", true));
    EXPECT_TRUE(ac.route_is_public("p", "POST", "/items/:id", false));   // another method: plugin-wide
    // A rule for one method never opens a route of every method...
    p.route_access = {rule("/any", true, "GET")};
    p.allow_unauthenticated.reset();
    EXPECT_FALSE(make(c).route_is_public("p", "*", "/any", false));
    // ...but may close one.
    p.route_access = {rule("/any", false, "GET")};
    EXPECT_FALSE(make(c).route_is_public("p", "*", "/any", true));
    EXPECT_FALSE(make(c).route_is_public("q", "GET", "/any", false));  // other plugins untouched
}

TEST(AccessControl, MissesAreShownOnlyWhereRoutesAreOpenByDefault) {
    config::Config c;
    c.plugins["open"].allow_unauthenticated = true;
    c.plugins["shut"].allow_unauthenticated = false;
    EXPECT_TRUE(make(c).misses_are_public("open"));
    EXPECT_FALSE(make(c).misses_are_public("other"));
    c.auth.disable_default_policy = true;
    EXPECT_TRUE(make(c).misses_are_public("other"));
    EXPECT_FALSE(make(c).misses_are_public("shut"));
}

TEST(AccessControl, StaticTokensAndTheirRestrictions) {
    config::Config c;
    c.auth.external_access = {static_entry("token-one-1234", "one"), static_entry("token-two-5678", "two", {"a"})};
    c.auth.external_access[1].key_path = "auth.externalAccess[1]";
    AccessControl ac = make(c);
    Caller caller;
    auto check = [&](std::string_view field, std::string_view plugin) {
        return ac.authenticate(&field, plugin, caller);
    };
    EXPECT_EQ(ac.authenticate(nullptr, "a", caller).kind, Kind::missing);
    EXPECT_EQ(check("Bearer token-one-1234", "b").kind, Kind::allowed);
    EXPECT_EQ(caller.subject, "one");
    EXPECT_EQ(caller.type, TokenType::static_token);
    EXPECT_EQ(check("BEARER    token-one-1234  ", "b").kind, Kind::allowed);
    EXPECT_EQ(check("Bearer token-one-123", "b").kind, Kind::invalid);
    EXPECT_EQ(caller.type, TokenType::none);
    EXPECT_EQ(check("Bearer", "b").kind, Kind::invalid);
    EXPECT_EQ(check("Bearer ", "b").kind, Kind::invalid);
    EXPECT_EQ(check("Bearertoken-one-1234", "b").kind, Kind::invalid);
    EXPECT_EQ(check("Token token-one-1234", "b").kind, Kind::invalid);
    EXPECT_EQ(check("Bearer token-two-5678", "a").kind, Kind::allowed);
    Verdict refused = check("Bearer token-two-5678", "b");
    EXPECT_EQ(refused.kind, Kind::forbidden);
    EXPECT_EQ(refused.reason,
              "the token of \"two\" may not call plugin \"b\" (auth.externalAccess[1].accessRestrictions)");
    EXPECT_EQ(caller.type, TokenType::none);
    EXPECT_EQ(check("Bearer " + std::string(kMaxTokenBytes + 1, 'x'), "a").reason,
              "invalid token: token too long");
}

TEST(AccessControl, AnAdminTokenIsOneExactBearerToken) {
    BearerToken token("admin-token-0123456789");
    std::string_view good = "Bearer admin-token-0123456789", bad = "Bearer admin-token-012345678";
    EXPECT_TRUE(token.accepts(&good));
    EXPECT_FALSE(token.accepts(&bad));
    EXPECT_FALSE(token.accepts(nullptr));
}

struct CountingFetcher : KeySetFetcher {
    int fetches = 0;
    void fetch(std::shared_ptr<RemoteKeySet>) override { ++fetches; }
};

TEST(RemoteKeySet, FetchesAtMostOnceInACooldownAndWhenStale) {
    CountingFetcher fetcher;
    auto set = std::make_shared<RemoteKeySet>("http://idp/keys", fetcher);
    const auto t0 = RemoteKeySet::Clock::time_point(std::chrono::hours(1));
    set->refresh(false, t0);
    EXPECT_EQ(fetcher.fetches, 1);
    set->refresh(false, t0 + std::chrono::seconds(1));  // still running
    EXPECT_EQ(fetcher.fetches, 1);
    set->fetched(std::make_shared<const KeySet>(KeySet::parse(R"({"keys":[]})")), t0 + std::chrono::seconds(1));
    set->refresh(false, t0 + std::chrono::seconds(29));  // an unknown kid, too soon
    EXPECT_EQ(fetcher.fetches, 1);
    set->refresh(true, t0 + std::chrono::seconds(31));  // not stale yet
    EXPECT_EQ(fetcher.fetches, 1);
    set->refresh(false, t0 + std::chrono::seconds(31));  // an unknown kid, cooldown over
    EXPECT_EQ(fetcher.fetches, 2);
    set->fetch_failed();
    set->refresh(true, t0 + std::chrono::minutes(11));  // stale
    EXPECT_EQ(fetcher.fetches, 3);
}

}  // namespace
}  // namespace kerberus::auth
