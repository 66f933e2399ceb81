// Route authentication as a caller meets it: Backstage's externalAccess
// tokens (static, legacy, jwks from an upstream serving the key set), the
// default policy, public routes a plugin marked through the C ABI and the
// SDK (the proxy's dangerously-allow-unauthenticated), the operator's
// plugins.<id>.auth rules, 401/403 answers, the admin token, reloads, and
// configurations refused because nothing would guard the port.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/jwt_signing.h"
#include "daemon.h"
#include "http_client.h"
#include "proxy_config.h"
#include "upstream_server.h"

namespace kerberus::test {
namespace {

constexpr const char* kCiToken = "ci-token-0123456789";
constexpr const char* kOtherToken = "other-token-abcdefgh";

std::string bearer(std::string_view token) { return "Authorization: Bearer " + std::string(token); }

Response call(const std::string& url, const std::vector<std::string>& headers = {}) {
    Request r;
    r.url = url;
    r.headers = headers;
    return perform(r);
}

std::string message_of(const Response& r) {
    auto doc = parse_json(r.body);
    if (!doc.IsObject() || !doc.HasMember("error")) return "";
    return json_string(doc["error"], "message").value_or("");
}

// Static tokens: ci-bot anywhere, gate-only only into gatekeeper.
std::string static_tokens() {
    return std::string("{ externalAccess: [") +
           "{ type: static, options: { token: " + kCiToken + ", subject: ci-bot } }," +
           "{ type: static, options: { token: " + kOtherToken + ", subject: gate-only }," +
           "  accessRestrictions: [ { plugin: gatekeeper } ] } ] }";
}

ConfigBuilder gate_config(const std::string& auth) {
    return bundled_config().plugin_dir(fixture_plugin_dir("gatekeeper")).section("auth", auth);
}

TEST(IntegrationAuth, EveryRouteNeedsABearerTokenByDefault) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(static_tokens())));
    Response none = call(d.url("/api/hello/world"));
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.header("WWW-Authenticate").value_or(""), "Bearer");
    EXPECT_EQ(none.header("Content-Type").value_or(""), "application/json");
    EXPECT_NE(none.body.find("\"AuthenticationError\""), std::string::npos) << none.body;
    EXPECT_EQ(message_of(none), "authentication required: send Authorization: Bearer <token>");

    Response wrong = call(d.url("/api/hello/world"), {bearer("not-the-token-at-all")});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.header("WWW-Authenticate").value_or(""), "Bearer error=\"invalid_token\"");
    EXPECT_EQ(message_of(wrong), "invalid token: no auth.externalAccess entry accepts it");

    Response basic = call(d.url("/api/hello/world"), {"Authorization: Basic dXNlcjpwYXNz"});
    EXPECT_EQ(basic.status, 401);
    EXPECT_EQ(message_of(basic), "the Authorization field is not of the form: Bearer <token>");

    // One character off, and a prefix, are different tokens.
    std::string near(kCiToken);
    near.back() = 'X';
    EXPECT_EQ(call(d.url("/api/hello/world"), {bearer(near)}).status, 401);
    EXPECT_EQ(call(d.url("/api/hello/world"), {bearer(std::string(kCiToken).substr(0, 10))}).status, 401);

    Response ok = call(d.url("/api/hello/world"), {bearer(kCiToken)});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "Hello, world!\n");
    // The scheme is case-insensitive (RFC 9110 11.1).
    EXPECT_EQ(call(d.url("/api/hello/world"), {std::string("Authorization: bearer ") + kCiToken}).status, 200);
    // The daemon's own health routes never ask.
    EXPECT_EQ(call(d.url("/.kerberus/health/v1/liveness")).status, 200);
    EXPECT_EQ(call(d.url("/.backstage/health/v1/readiness")).status, 200);
}

TEST(IntegrationAuth, PluginsSeeTheCallerThroughTheAbiAndTheSdk) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(static_tokens())));
    EXPECT_EQ(call(d.url("/api/gatekeeper/private"), {bearer(kCiToken)}).body, "caller: ci-bot (static)");
    auto doc = parse_json(call(d.url("/api/echo/x"), {bearer(kCiToken)}).body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("caller") && doc["caller"].IsObject());
    EXPECT_EQ(json_string(doc["caller"], "subject").value_or(""), "ci-bot");
    EXPECT_EQ(json_string(doc["caller"], "token_type").value_or(""), "static");
}

TEST(IntegrationAuth, AccessRestrictionsLimitATokenToItsPlugins) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(static_tokens())));
    EXPECT_EQ(call(d.url("/api/gatekeeper/private"), {bearer(kOtherToken)}).body, "caller: gate-only (static)");
    Response refused = call(d.url("/api/hello/world"), {bearer(kOtherToken)});
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.header("WWW-Authenticate").value_or(""), "Bearer error=\"insufficient_scope\"");
    EXPECT_NE(refused.body.find("\"NotAllowedError\""), std::string::npos) << refused.body;
    EXPECT_EQ(message_of(refused),
              "the token of \"gate-only\" may not call plugin \"hello\" (auth.externalAccess[1].accessRestrictions)");
}

TEST(IntegrationAuth, RoutesAPluginMarkedPublicServeEveryone) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(static_tokens())));
    // KERBERUS_ERR_NOT_FOUND (-2) and both views empty without credentials.
    EXPECT_EQ(call(d.url("/api/gatekeeper/public")).body, "caller: none (-2, 0, 0)");
    EXPECT_EQ(call(d.url("/api/gatekeeper/public/files/a/b")).status, 200);
    // Credentials that verify still name the caller; others are ignored.
    EXPECT_EQ(call(d.url("/api/gatekeeper/public"), {bearer(kCiToken)}).body, "caller: ci-bot (static)");
    EXPECT_EQ(call(d.url("/api/gatekeeper/public"), {bearer("garbage-token")}).body, "caller: none (-2, 0, 0)");
    EXPECT_EQ(call(d.url("/api/gatekeeper/private")).status, 401);
    // Which routes exist is not shown to callers without credentials.
    EXPECT_EQ(call(d.url("/api/gatekeeper/nowhere")).status, 401);
    EXPECT_EQ(call(d.url("/api/gatekeeper/nowhere"), {bearer(kCiToken)}).status, 404);
    Request post;
    post.method = "POST";
    post.url = d.url("/api/gatekeeper/public");
    EXPECT_EQ(perform(post).status, 401);
    post.headers = {bearer(kCiToken)};
    EXPECT_EQ(perform(post).status, 405);
    // route_set_flags: PUBLIC accepted; an unknown bit is KERBERUS_ERR_INVALID
    // (-1); an unregistered route KERBERUS_ERR_NOT_FOUND (-2).
    EXPECT_EQ(call(d.url("/api/gatekeeper/flags")).body, "public=0 unknown_bit=-1 unregistered=-2");
}

TEST(IntegrationAuth, TheOperatorsRulesOpenAndCloseRoutes) {
    Daemon d;
    ConfigBuilder config = gate_config(static_tokens());
    config.plugin("gatekeeper", "auth: { routes: [ { path: /admin, allow: unauthenticated },"
                                " { path: /public, method: get, allow: authenticated } ] }");
    config.plugin("hello", "auth: { allow: unauthenticated }");
    ASSERT_TRUE(d.start(config));
    EXPECT_EQ(call(d.url("/api/gatekeeper/admin/x")).status, 200);  // opened by its prefix rule
    EXPECT_EQ(call(d.url("/api/gatekeeper/public")).status, 401);   // closed over the plugin's mark
    EXPECT_EQ(call(d.url("/api/gatekeeper/public/files/a")).status, 401);  // "/public" covers it too
    EXPECT_EQ(call(d.url("/api/gatekeeper/private")).status, 401);  // untouched
    EXPECT_EQ(call(d.url("/api/hello/world")).status, 200);         // the whole plugin opened
    EXPECT_EQ(call(d.url("/api/hello/a/b/c")).status, 404);         // and its misses are shown
}

TEST(IntegrationAuth, WithTheDefaultPolicyDisabledOnlyClosedRoutesAsk) {
    Daemon d;
    ConfigBuilder config = gate_config("{ dangerouslyDisableDefaultAuthPolicy: true, externalAccess: [ "
                                       "{ type: static, options: { token: " + std::string(kCiToken) +
                                       ", subject: ci-bot } } ] }");
    config.plugin("gatekeeper", "auth: { routes: [ { path: /private, allow: authenticated } ] }");
    ASSERT_TRUE(d.start(config));
    EXPECT_EQ(call(d.url("/api/hello/world")).status, 200);
    EXPECT_EQ(call(d.url("/api/gatekeeper/admin/x")).body, "caller: none (-2, 0, 0)");
    EXPECT_EQ(call(d.url("/api/gatekeeper/admin/x"), {bearer(kCiToken)}).body, "caller: ci-bot (static)");
    EXPECT_EQ(call(d.url("/api/gatekeeper/private")).status, 401);
    EXPECT_EQ(call(d.url("/api/gatekeeper/private"), {bearer(kCiToken)}).status, 200);
}

TEST(IntegrationAuth, NoTokensConfiguredMeansNoPluginRouteAnswers) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config("{}")));
    EXPECT_EQ(call(d.url("/api/hello/world")).status, 401);
    EXPECT_EQ(call(d.url("/api/hello/world"), {bearer(kCiToken)}).status, 401);
    EXPECT_EQ(call(d.url("/api/gatekeeper/public")).status, 200);
}

TEST(IntegrationAuth, AStreamedUploadWithoutATokenIsRefusedBeforeItsBody) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(static_tokens()).plugin_dir(fixture_plugin_dir("streamer"))));
    Request upload;
    upload.method = "POST";
    upload.url = d.url("/api/streamer/upload");
    upload.body = std::string(4 * 1024 * 1024, 'u');
    Response refused = perform(upload);
    EXPECT_EQ(refused.status, 401);
    upload.headers = {bearer(kCiToken)};
    Response taken = perform(upload);
    EXPECT_EQ(taken.status, 200) << taken.body;
}

TEST(IntegrationAuth, LegacyTokensAreBackstagesSharedSecretJwts) {
    const std::string secret = "a shared secret of some length";
    Daemon d;
    ASSERT_TRUE(d.start(gate_config("{ externalAccess: [ { type: legacy, options: { secret: " + jwt::b64(secret) +
                                    ", subject: backstage-server } } ] }")));
    const long now = static_cast<long>(std::time(nullptr));
    const std::string head = R"({"alg":"HS256","typ":"JWT"})";
    const std::string good =
        jwt::legacy_token(secret, head, R"({"sub":"backstage-server","exp":)" + std::to_string(now + 600) + "}");
    EXPECT_EQ(call(d.url("/api/gatekeeper/private"), {bearer(good)}).body, "caller: backstage-server (legacy)");
    const std::string expired =
        jwt::legacy_token(secret, head, R"({"sub":"backstage-server","exp":)" + std::to_string(now - 600) + "}");
    Response late = call(d.url("/api/gatekeeper/private"), {bearer(expired)});
    EXPECT_EQ(late.status, 401);
    EXPECT_NE(message_of(late).find("expired"), std::string::npos) << late.body;
    const std::string forged = jwt::legacy_token("another secret entirely", head,
                                                 R"({"sub":"backstage-server","exp":)" + std::to_string(now + 600) + "}");
    EXPECT_EQ(call(d.url("/api/gatekeeper/private"), {bearer(forged)}).status, 401);
}

class IntegrationAuthJwks : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rsa = jwt::generate("RSA").release();
        ec = jwt::generate("EC").release();
    }
    static void TearDownTestSuite() {
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(ec);
    }

    std::string config_auth() const {
        return "{ externalAccess: [ { type: jwks, options: { url: '" + idp.url("/.well-known/jwks.json") +
               "', issuer: https://idp.example, audience: kerberus, algorithm: [RS256, ES256], "
               "subjectPrefix: 'idp:' } } ] }";
    }
    static std::string sign(EVP_PKEY* key, std::string_view alg, std::string_view kid, long exp_in,
                            std::string_view audience = "kerberus") {
        const long now = static_cast<long>(std::time(nullptr));
        const std::string head = "{\"alg\":\"" + std::string(alg) + "\",\"kid\":\"" + std::string(kid) + "\"}";
        const std::string claims = "{\"sub\":\"user:default/ada\",\"iss\":\"https://idp.example\",\"aud\":\"" +
                                   std::string(audience) + "\",\"exp\":" + std::to_string(now + exp_in) + "}";
        return jwt::token(alg, key, head, claims);
    }

    static EVP_PKEY* rsa;
    static EVP_PKEY* ec;
    UpstreamServer idp;
};
EVP_PKEY* IntegrationAuthJwks::rsa = nullptr;
EVP_PKEY* IntegrationAuthJwks::ec = nullptr;

TEST_F(IntegrationAuthJwks, TokensVerifyAgainstTheFetchedKeySet) {
    idp.set_document("/.well-known/jwks.json", "application/json",
                     jwt::jwks({jwt::jwk_of(rsa, "rsa-1"), jwt::jwk_of(ec, "ec-1")}));
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(config_auth())));
    ASSERT_TRUE(d.wait_for_log({"auth: fetched the key set", "2 keys"})) << d.log();
    const std::string url = d.url("/api/gatekeeper/private");
    EXPECT_EQ(call(url, {bearer(sign(rsa, "RS256", "rsa-1", 300))}).body, "caller: idp:user:default/ada (jwks)");
    EXPECT_EQ(call(url, {bearer(sign(ec, "ES256", "ec-1", 300))}).body, "caller: idp:user:default/ada (jwks)");

    Response expired = call(url, {bearer(sign(rsa, "RS256", "rsa-1", -600))});
    EXPECT_EQ(expired.status, 401);
    EXPECT_NE(message_of(expired).find("expired"), std::string::npos) << expired.body;
    Response audience = call(url, {bearer(sign(rsa, "RS256", "rsa-1", 300, "someone-else"))});
    EXPECT_EQ(audience.status, 401);
    EXPECT_NE(message_of(audience).find("audience"), std::string::npos) << audience.body;
    // Signed by a key the set does not hold, under a kid it does.
    EXPECT_EQ(call(url, {bearer(sign(ec, "ES256", "rsa-1", 300))}).status, 401);
    Response unknown = call(url, {bearer(sign(rsa, "RS256", "rotated-away", 300))});
    EXPECT_EQ(unknown.status, 401);
    EXPECT_NE(message_of(unknown).find("rotated-away"), std::string::npos) << unknown.body;
}

TEST_F(IntegrationAuthJwks, WithSeveralKindsOfEntryTheReasonIsTheEntryTheTokenWasFor) {
    idp.set_document("/.well-known/jwks.json", "application/json", jwt::jwks({jwt::jwk_of(rsa, "rsa-1")}));
    std::string auth = config_auth();
    auth.insert(auth.find("[") + 1, "{ type: legacy, options: { secret: " + jwt::b64("some shared secret") +
                                        ", subject: backstage-server } }, ");
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(auth)));
    ASSERT_TRUE(d.wait_for_log({"auth: fetched the key set"})) << d.log();
    const std::string url = d.url("/api/gatekeeper/private");
    Response expired = call(url, {bearer(sign(rsa, "RS256", "rsa-1", -600))});
    EXPECT_EQ(expired.status, 401);
    EXPECT_NE(message_of(expired).find("expired"), std::string::npos) << expired.body;
    Response unknown = call(url, {bearer(sign(rsa, "RS256", "rotated-away", 300))});
    EXPECT_NE(message_of(unknown).find("rotated-away"), std::string::npos) << unknown.body;
    EXPECT_EQ(call(url, {bearer(sign(rsa, "RS256", "rsa-1", 300))}).body, "caller: idp:user:default/ada (jwks)");
}

TEST_F(IntegrationAuthJwks, AKeySetThatCannotBeFetchedFailsItsTokensAndSaysWhy) {
    Daemon d;  // the upstream has no document: 200 with its echo JSON, no "keys"
    ASSERT_TRUE(d.start(gate_config(config_auth())));
    ASSERT_TRUE(d.wait_for_log({"auth: the key set", "is not usable"})) << d.log();
    Response r = call(d.url("/api/gatekeeper/private"), {bearer(sign(rsa, "RS256", "rsa-1", 300))});
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(message_of(r).find("has not been fetched yet"), std::string::npos) << r.body;
}

TEST(IntegrationAuth, ProxyCredentialsMeanWhatTheyMeanInBackstage) {
    UpstreamServer upstream;
    Daemon d;
    ConfigBuilder config = proxy_config({
        endpoint("/open", upstream.url("/o"), "credentials: dangerously-allow-unauthenticated"),
        endpoint("/open/inner", upstream.url("/i"), "credentials: require"),
        simple_endpoint("/closed", upstream.url("/c")),
        endpoint("/fwd", upstream.url("/f"), "credentials: forward"),
    });
    ASSERT_TRUE(d.start(config.section("auth", static_tokens())));
    EXPECT_EQ(call(d.url("/api/proxy/open/x")).status, 200);
    EXPECT_EQ(call(d.url("/api/proxy/open")).status, 200);
    // A closed endpoint below an open one stays closed.
    EXPECT_EQ(call(d.url("/api/proxy/open/inner/x")).status, 401);
    EXPECT_EQ(call(d.url("/api/proxy/closed/x")).status, 401);
    EXPECT_EQ(call(d.url("/api/proxy/fwd/x")).status, 401);
    EXPECT_EQ(call(d.url("/api/proxy/nowhere")).status, 401);

    ASSERT_EQ(call(d.url("/api/proxy/closed/x"), {bearer(kCiToken)}).status, 200);
    EXPECT_FALSE(upstream.last_request()->has_header("Authorization"));
    ASSERT_EQ(call(d.url("/api/proxy/fwd/x"), {bearer(kCiToken)}).status, 200);
    EXPECT_EQ(upstream.last_request()->header("Authorization").value_or(""), std::string("Bearer ") + kCiToken);
}

TEST(IntegrationAuth, NewTokensTakeEffectOnReload) {
    Daemon d;
    ConfigBuilder config = gate_config(static_tokens());
    ASSERT_TRUE(d.start(config));
    ASSERT_EQ(call(d.url("/api/hello/world"), {bearer(kCiToken)}).status, 200);
    config.section("auth", "{ externalAccess: [ { type: static, options: { token: rotated-token-42, subject: ci-bot } } ] }");
    d.write_config(config);
    ASSERT_TRUE(reload(d));
    EXPECT_EQ(call(d.url("/api/hello/world"), {bearer(kCiToken)}).status, 401);
    EXPECT_EQ(call(d.url("/api/hello/world"), {bearer("rotated-token-42")}).status, 200);
}

TEST(IntegrationAuth, TokensNeverReachTheLog) {
    Daemon d;
    ASSERT_TRUE(d.start(gate_config(static_tokens()).log_level("trace").section("access_log", "{ enabled: true }")));
    call(d.url("/api/hello/world"), {bearer(kCiToken)});
    call(d.url("/api/hello/world"), {bearer("a-wrong-token-1234")});
    call(d.url("/api/hello/world?token=visible-in-url"), {bearer(kOtherToken)});
    d.signal(SIGTERM);
    d.wait_exit();
    ASSERT_NE(d.out().find("/api/hello/world?token=visible-in-url"), std::string::npos) << d.out();
    for (const char* secret : {kCiToken, "a-wrong-token-1234", kOtherToken}) {
        EXPECT_EQ(d.log().find(secret), std::string::npos) << secret;
        EXPECT_EQ(d.out().find(secret), std::string::npos) << secret;
    }
}

TEST(IntegrationAuth, AnAdminTokenGuardsTheAdminSurface) {
    Daemon d;
    const std::string token = "admin-token-0123456789abcdef";
    ASSERT_TRUE(d.start(bundled_config().admin("token", token)));
    Response none = call(d.admin_url("/metrics"));
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.header("WWW-Authenticate").value_or(""), "Bearer");
    EXPECT_EQ(call(d.admin_url("/metrics"), {bearer("admin-token-0123456789abcdeX")}).status, 401);
    EXPECT_EQ(call(d.admin_url("/metrics"), {bearer(token)}).status, 200);
    EXPECT_EQ(call(d.admin_url("/v1/plugins"), {bearer(token)}).status, 200);
}

// Refusals are checked with --check: tests listen on loopback only.
TEST(IntegrationAuth, AnUnguardedListenerOffLoopbackIsRefused) {
    Daemon d;
    ConfigBuilder open = bundled_config().server("listen", "\"0.0.0.0:7007\"").section("auth", "{}");
    RunResult run = d.run_to_exit({"--check", "--config", d.write_config(open).string()});
    EXPECT_EQ(run.status, 78) << run.err;
    EXPECT_NE(run.err.find("server.listen: listening on 0.0.0.0, which other machines can reach, with no "
                           "auth.externalAccess entry"),
              std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("auth.dangerouslyDisableDefaultAuthPolicy: true"), std::string::npos) << run.err;

    open.section("auth", static_tokens());
    run = d.run_to_exit({"--check", "--config", d.write_config(open).string()});
    EXPECT_EQ(run.status, 0) << run.err;

    ConfigBuilder admin = bundled_config().admin("listen", "\"[::]:7008\"");
    run = d.run_to_exit({"--check", "--config", d.write_config(admin).string()});
    EXPECT_EQ(run.status, 78) << run.err;
    EXPECT_NE(run.err.find("admin.listen: the admin listener on :: is reachable from other machines; set admin.token"),
              std::string::npos)
        << run.err;
}

TEST(IntegrationAuth, BadAuthConfigurationIsNamedByFileLineAndKey) {
    Daemon d;
    struct Case {
        std::string auth;
        std::string expected;
    };
    const Case cases[] = {
        {"{ externalAccess: [ { type: static, options: { token: short, subject: x } } ] }",
         "auth.externalAccess[0].options.token: expected a token of at least 8 characters without whitespace"},
        {"{ externalAccess: [ { type: static, options: { token: long-enough-token } } ] }",
         "auth.externalAccess[0].options.subject: missing"},
        {"{ externalAccess: [ { type: magic, options: {} } ] }",
         "auth.externalAccess[0].type: expected static, legacy or jwks"},
        {"{ externalAccess: [ { type: jwks, options: { url: ftp://x/keys } } ] }",
         "auth.externalAccess[0].options.url: expected an http:// or https:// URL"},
        {"{ externalAccess: [ { type: jwks, options: { url: 'http://127.0.0.1:1/k', algorithm: HS256 } } ] }",
         "auth.externalAccess[0].options.algorithm: unsupported algorithm \"HS256\""},
        {"{ externalAccess: [ { type: legacy, options: { secret: 'not~base64~at~all', subject: s } } ] }",
         "auth.externalAccess[0].options.secret: expected the shared secret in base64"},
        {"{ externalAccess: [ { type: static, options: { token: long-enough-token, subject: x },"
         " accessRestrictions: [ { plugin: catalog, permission: catalog.entity.read } ] } ] }",
         "auth.externalAccess[0].accessRestrictions[0].permission: kerberus restricts tokens by plugin only"},
        {"{ defaultPolicy: open }", "auth.defaultPolicy: unknown key"},
    };
    for (const Case& c : cases) {
        ConfigBuilder config = bundled_config().section("auth", c.auth);
        RunResult run = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
        EXPECT_EQ(run.status, 78) << c.auth << "\n" << run.err;
        EXPECT_NE(run.err.find(c.expected), std::string::npos) << c.auth << "\n" << run.err;
        EXPECT_NE(run.err.find("kerberus.yaml:"), std::string::npos) << run.err;
        EXPECT_EQ(run.err.find("long-enough-token"), std::string::npos) << run.err;
    }
}

}  // namespace
}  // namespace kerberus::test
