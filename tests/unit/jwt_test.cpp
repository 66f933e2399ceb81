// auth.jwt: bearer tokens verified against a JSON Web Key Set (RSA and EC
// P-256 keys made here with OpenSSL, tokens signed here) and Backstage's
// legacy HS256 tokens; strict base64; what a hostile token gets back.
#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/jwt_signing.h"
#include "auth/jwks.h"
#include "auth/jwt.h"

using namespace kerberus::auth;
namespace jwt = kerberus::test::jwt;
using jwt::b64;
using jwt::bn_param;
using jwt::b64url;
using jwt::generate;
using jwt::hmac;
using jwt::jwk_of;
using jwt::jwks;
using jwt::signature;
using jwt::token;
using std::chrono::seconds;

namespace {

const std::chrono::system_clock::time_point kNow{seconds(1'700'000'000)};
constexpr long kNowSeconds = 1'700'000'000;

std::string header(std::string_view alg, std::string_view kid = "") {
    return "{\"alg\":\"" + std::string(alg) + "\"" + (kid.empty() ? "" : ",\"kid\":\"" + std::string(kid) + "\"") +
           ",\"typ\":\"JWT\"}";
}

std::string claims(long exp_offset = 3600, const std::string& extra = "") {
    return "{\"sub\":\"user:default/ci\",\"iss\":\"https://idp.example\",\"exp\":" +
           std::to_string(kNowSeconds + exp_offset) + extra + "}";
}


std::string legacy_token(std::string_view secret, const std::string& payload, std::string_view alg = "HS256") {
    return jwt::legacy_token(secret, header(alg), payload);
}

// Keys are slow to make: once for the suite.
class Jwt : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rsa_a = generate("RSA").release();
        rsa_b = generate("RSA").release();
        ec_a = generate("EC").release();
    }
    static void TearDownTestSuite() {
        for (EVP_PKEY* key : {rsa_a, rsa_b, ec_a}) EVP_PKEY_free(key);
    }

    static KeySet standard_set() {
        return KeySet::parse(jwks({jwk_of(rsa_a, "rsa-a"), jwk_of(rsa_b, "rsa-b"), jwk_of(ec_a, "ec-a")}));
    }

    JwtResult verify(const std::string& jwt, const JwtRules& rules = {}) { return verify_jwt(jwt, set, rules, kNow); }

    static EVP_PKEY* rsa_a;
    static EVP_PKEY* rsa_b;
    static EVP_PKEY* ec_a;
    KeySet set = standard_set();
};
EVP_PKEY* Jwt::rsa_a = nullptr;
EVP_PKEY* Jwt::rsa_b = nullptr;
EVP_PKEY* Jwt::ec_a = nullptr;

JwtRules allow(std::vector<std::string> algorithms) {
    JwtRules rules;
    rules.algorithms = std::move(algorithms);
    return rules;
}

std::string signature_part(const std::string& jwt) { return jwt.substr(jwt.rfind('.') + 1); }

}  // namespace

// ---- base64 ----------------------------------------------------------------

TEST(Base64, UrlDecodesWithoutPadding) {
    EXPECT_EQ(base64url_decode(""), "");
    EXPECT_EQ(base64url_decode("aGk"), "hi");
    EXPECT_EQ(base64url_decode("aGVsbG8"), "hello");
    EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
    EXPECT_EQ(base64url_decode(b64url(std::string("\0\x01\xfe\xff", 4))), std::string("\0\x01\xfe\xff", 4));
}

TEST(Base64, UrlRefusesPaddingForeignBytesAndLooseBits) {
    EXPECT_EQ(base64url_decode("aGk="), std::nullopt);       // padding
    EXPECT_EQ(base64url_decode("aGVsbG8="), std::nullopt);
    EXPECT_EQ(base64url_decode("+/8"), std::nullopt);        // the standard alphabet
    EXPECT_EQ(base64url_decode("aG k"), std::nullopt);       // whitespace
    EXPECT_EQ(base64url_decode("aGk\n"), std::nullopt);
    EXPECT_EQ(base64url_decode(std::string("aG\0k", 4)), std::nullopt);
    EXPECT_EQ(base64url_decode("aGk\xc3\xa9"), std::nullopt);
    EXPECT_EQ(base64url_decode("aGVsb"), std::nullopt);      // 1 mod 4: no whole byte
    EXPECT_EQ(base64url_decode("A"), std::nullopt);
    EXPECT_EQ(base64url_decode("aGl"), std::nullopt);        // "aGk" with a non-zero unused bit
    EXPECT_EQ(base64url_decode("AB"), std::nullopt);
}

TEST(Base64, StandardNeedsItsPadding) {
    EXPECT_EQ(base64_decode(""), "");
    EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
    EXPECT_EQ(base64_decode("aGk="), "hi");
    EXPECT_EQ(base64_decode("aGVs"), "hel");
    EXPECT_EQ(base64_decode("+/8="), "\xfb\xff");
    EXPECT_EQ(base64_decode("aGVsbG8"), std::nullopt);     // padding missing
    EXPECT_EQ(base64_decode("aGk=="), std::nullopt);
    EXPECT_EQ(base64_decode("aG=k"), std::nullopt);        // `=` inside
    EXPECT_EQ(base64_decode("a==="), std::nullopt);
    EXPECT_EQ(base64_decode("===="), std::nullopt);
    EXPECT_EQ(base64_decode("-_8="), std::nullopt);        // the URL alphabet
    EXPECT_EQ(base64_decode("aGVsbG8=\n"), std::nullopt);
    EXPECT_EQ(base64_decode("aGl="), std::nullopt);        // non-zero unused bits
}

// ---- key sets ----------------------------------------------------------------

TEST_F(Jwt, KeySetHoldsRsaAndEcKeys) {
    EXPECT_EQ(set.size(), 3u);
    EXPECT_EQ(set.skipped(), 0u);
    EXPECT_EQ(set.keys()[0].kid, "rsa-a");
    EXPECT_EQ(set.keys()[0].type, KeyType::rsa);
    EXPECT_EQ(set.keys()[2].type, KeyType::ec_p256);
    EXPECT_EQ(set.summary(), "3 keys");
}

TEST_F(Jwt, KeySetSkipsAndCountsWhatItCannotUse) {
    Pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
    KeySet parsed = KeySet::parse(jwks({
        jwk_of(rsa_a, "a"),
        R"({"kid":"ed","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
        jwk_of(rsa_b, "enc", "\"use\":\"enc\","),
        jwk_of(rsa_b, "wrap", "\"key_ops\":[\"wrapKey\"],"),
        jwk_of(rsa_b, "oaep", "\"alg\":\"RSA-OAEP\","),
        jwk_of(small.get(), "small"),
        R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA"})",
        jwk_of(ec_a, "ec", "\"use\":\"sig\",\"key_ops\":[\"verify\"],\"alg\":\"ES256\","),
    }));
    EXPECT_EQ(parsed.size(), 2u);
    ASSERT_EQ(parsed.skipped(), 6u);
    EXPECT_EQ(parsed.skipped_reasons()[0], "keys[1] (kid \"ed\"): kty \"OKP\"");
    EXPECT_EQ(parsed.skipped_reasons()[1], "keys[2] (kid \"enc\"): use \"enc\"");
    EXPECT_EQ(parsed.skipped_reasons()[2], "keys[3] (kid \"wrap\"): key_ops without \"verify\"");
    EXPECT_EQ(parsed.skipped_reasons()[3], "keys[4] (kid \"oaep\"): alg \"RSA-OAEP\" for kty \"RSA\"");
    EXPECT_EQ(parsed.skipped_reasons()[4], "keys[5] (kid \"small\"): RSA key of 1024 bits (at least 2048)");
    EXPECT_EQ(parsed.skipped_reasons()[5], "keys[6]: crv \"P-384\"");
    EXPECT_EQ(parsed.keys()[1].alg, "ES256");
    KeySet one = KeySet::parse(jwks({jwk_of(rsa_a, "a"), R"({"kty":"OKP","crv":"Ed25519","x":"AA"})"}));
    EXPECT_EQ(one.summary(), "1 key, 1 skipped (kty \"OKP\")");
}

TEST_F(Jwt, KeySetRefusesMalformedDocumentsNamingThePlace) {
    auto error_of = [](const std::string& json) {
        try {
            KeySet::parse(json);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    std::string good = jwk_of(rsa_a, "a");
    std::string bad_n = R"({"kty":"RSA","n":"not base64!","e":"AQAB"})";
    EXPECT_EQ(error_of(jwks({good, bad_n})), "keys[1].n: not base64url");
    EXPECT_EQ(error_of(R"({"keys":[{"kty":"RSA","n":"AQAB=","e":"AQAB"}]})"), "keys[0].n: not base64url");
    EXPECT_EQ(error_of(R"({"keys":[{"kty":"RSA","e":"AQAB"}]})"), "keys[0].n: missing");
    EXPECT_EQ(error_of(R"({"keys":[{"kty":"RSA","n":7,"e":"AQAB"}]})"), "keys[0].n: not a string");
    EXPECT_EQ(error_of(R"({"keys":[{"n":"AQAB"}]})"), "keys[0].kty: missing");
    EXPECT_EQ(error_of(R"({"keys":[42]})"), "keys[0]: not an object");
    EXPECT_EQ(error_of(R"({"keys":{}})"), "keys: not an array");
    EXPECT_EQ(error_of(R"({"kids":[]})"), "keys: missing");
    EXPECT_EQ(error_of("[]"), "not a JSON object");
    EXPECT_EQ(error_of(R"({"keys":[)").rfind("not JSON: ", 0), 0u);
    // RSA with an even modulus, or a useless exponent.
    std::string n = b64url(bn_param(rsa_a, OSSL_PKEY_PARAM_RSA_N));
    std::string even_n = n.substr(0, n.size() - 1) + (n.back() == 'A' ? "E" : "A");
    EXPECT_EQ(error_of(R"({"keys":[{"kty":"RSA","n":")" + even_n + R"(","e":"AQAB"}]})"),
              "keys[0].n: even, not an RSA modulus");
    EXPECT_EQ(error_of(R"({"keys":[{"kty":"RSA","n":")" + n + R"(","e":"AQ"}]})"),
              "keys[0].e: not a valid RSA public exponent");
    // EC: short coordinates, and a point off the curve.
    std::string x = b64url(bn_param(ec_a, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    std::string y = bn_param(ec_a, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    EXPECT_EQ(error_of(R"({"keys":[{"kty":"EC","crv":"P-256","x":")" + b64url(std::string(31, 'x')) + R"(","y":")" +
                       b64url(y) + R"("}]})"),
              "keys[0].x: 31 bytes, P-256 needs 32");
    y[31] = static_cast<char>(y[31] ^ 1);
    std::string off = error_of(R"({"keys":[{"kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + b64url(y) + R"("}]})");
    EXPECT_EQ(off.rfind("keys[0]", 0), 0u) << off;
}

// ---- valid tokens --------------------------------------------------------------

TEST_F(Jwt, AcceptsRs256) {
    JwtResult r = verify(token("RS256", rsa_a, header("RS256", "rsa-a"), claims()));
    ASSERT_TRUE(r.token) << r.error;
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.token->subject, "user:default/ci");
    EXPECT_EQ(r.token->issuer, "https://idp.example");
    EXPECT_EQ(r.token->key_id, "rsa-a");
    EXPECT_EQ(r.token->expires, kNow + seconds(3600));
}

TEST_F(Jwt, AcceptsEs256) {
    JwtResult r = verify(token("ES256", ec_a, header("ES256", "ec-a"), claims()));
    ASSERT_TRUE(r.token) << r.error;
    EXPECT_EQ(r.token->key_id, "ec-a");
}

TEST_F(Jwt, AcceptsEveryRsaAlgorithmWhenAllowed) {
    JwtRules rules = allow({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"});
    for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
        JwtResult r = verify(token(alg, rsa_b, header(alg, "rsa-b"), claims()), rules);
        EXPECT_TRUE(r.token) << alg << ": " << r.error;
    }
}

TEST_F(Jwt, PssIsNotPkcs1) {
    // A PS256 signature presented as RS256 (and the reverse) does not verify.
    std::string input = b64url(header("RS256", "rsa-a")) + "." + b64url(claims());
    std::string jwt = input + "." + b64url(signature("PS256", rsa_a, input));
    EXPECT_EQ(verify(jwt, allow({"RS256", "PS256"})).error, "signature does not verify");
    input = b64url(header("PS256", "rsa-a")) + "." + b64url(claims());
    jwt = input + "." + b64url(signature("RS256", rsa_a, input));
    EXPECT_EQ(verify(jwt, allow({"RS256", "PS256"})).error, "signature does not verify");
}

TEST_F(Jwt, FractionalTimesAreNumbersToo) {
    std::string payload = R"({"sub":"s","exp":)" + std::to_string(kNowSeconds + 100) + R"(.5,"iat":1699999999.25})";
    JwtResult r = verify(token("RS256", rsa_a, header("RS256"), payload));
    ASSERT_TRUE(r.token) << r.error;
    EXPECT_EQ(r.token->expires, kNow + seconds(100));
}

// ---- choosing the key ------------------------------------------------------------

TEST_F(Jwt, KidChoosesAmongTwoKeys) {
    EXPECT_TRUE(verify(token("RS256", rsa_b, header("RS256", "rsa-b"), claims())).token);
    // Signed with b, naming a: a's key is the one tried, and it does not verify.
    JwtResult r = verify(token("RS256", rsa_b, header("RS256", "rsa-a"), claims()));
    EXPECT_FALSE(r.token);
    EXPECT_EQ(r.error, "signature does not verify");
    EXPECT_FALSE(r.unknown_key);
}

TEST_F(Jwt, WithoutKidEachFittingKeyIsTried) {
    JwtResult r = verify(token("RS256", rsa_b, header("RS256"), claims()));
    ASSERT_TRUE(r.token) << r.error;
    EXPECT_EQ(r.token->key_id, "");
    EXPECT_TRUE(verify(token("ES256", ec_a, header("ES256"), claims())).token);
}

TEST_F(Jwt, UnknownKidAsksForAFreshKeySet) {
    JwtResult r = verify(token("RS256", rsa_a, header("RS256", "abc"), claims()));
    EXPECT_FALSE(r.token);
    EXPECT_TRUE(r.unknown_key);
    EXPECT_EQ(r.error, "no key with kid \"abc\" in the key set");
}

TEST_F(Jwt, KeyOfAnotherTypeIsRefused) {
    JwtResult r = verify(token("ES256", ec_a, header("ES256", "rsa-a"), claims()));
    EXPECT_EQ(r.error, "key \"rsa-a\" is an RSA key, not for ES256");
    EXPECT_FALSE(r.unknown_key);
    // A key's own alg binds it to that algorithm (RFC 7517 4.4).
    KeySet bound = KeySet::parse(jwks({jwk_of(rsa_a, "a", "\"alg\":\"RS512\",")}));
    r = verify_jwt(token("RS256", rsa_a, header("RS256", "a"), claims()), bound, {}, kNow);
    EXPECT_EQ(r.error, "key \"a\" is an RSA key for RS512, not for RS256");
    KeySet ec_only = KeySet::parse(jwks({jwk_of(ec_a, "")}));
    r = verify_jwt(token("RS256", rsa_a, header("RS256"), claims()), ec_only, {}, kNow);
    EXPECT_EQ(r.error, "no key in the key set for algorithm RS256");
    EXPECT_FALSE(r.unknown_key);
}

// ---- signatures and algorithms -------------------------------------------------------

TEST_F(Jwt, AlteredSignatureOrPayloadDoesNotVerify) {
    for (const char* alg : {"RS256", "ES256"}) {
        EVP_PKEY* key = std::string_view(alg) == "RS256" ? rsa_a : ec_a;
        std::string jwt = token(alg, key, header(alg), claims());
        std::string sig = *base64url_decode(signature_part(jwt));
        sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
        std::string flipped = jwt.substr(0, jwt.rfind('.') + 1) + b64url(sig);
        JwtResult r = verify(flipped);
        EXPECT_FALSE(r.token) << alg;
        EXPECT_EQ(r.error, "signature does not verify") << alg;
        EXPECT_FALSE(r.unknown_key);

        std::string other = token(alg, key, header(alg), claims(3600, R"(,"admin":true)"));
        std::string spliced = other.substr(0, other.rfind('.')) + "." + signature_part(jwt);
        EXPECT_EQ(verify(spliced).error, "signature does not verify") << alg;
        EXPECT_EQ(verify(jwt.substr(0, jwt.rfind('.') + 1)).error, "signature does not verify") << alg;
    }
}

TEST_F(Jwt, Es256TakesOnlyTheRawForm) {
    // The DER form OpenSSL makes is not what RFC 7518 3.4 puts in a JWS.
    std::string input = b64url(header("ES256")) + "." + b64url(claims());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, ec_a);
    std::size_t length = 80;
    std::string der(length, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    der.resize(length);
    EXPECT_EQ(verify(input + "." + b64url(der)).error, "signature does not verify");
    EXPECT_EQ(verify(input + "." + b64url(std::string(64, '\0'))).error, "signature does not verify");
}

TEST_F(Jwt, AlgNoneIsAlwaysRefused) {
    std::string jwt = b64url(R"({"alg":"none"})") + "." + b64url(claims()) + ".";
    EXPECT_EQ(verify(jwt).error, "unsigned token (alg none) refused");
    EXPECT_EQ(verify(jwt, allow({"none", "RS256"})).error, "unsigned token (alg none) refused");
    EXPECT_EQ(verify_legacy_jwt(jwt, "secret", kNow).error, "unsigned token (alg none) refused");
}

TEST_F(Jwt, AlgorithmOutsideTheRulesIsRefused) {
    JwtResult r = verify(token("RS384", rsa_a, header("RS384"), claims()));
    EXPECT_EQ(r.error, "algorithm RS384 not allowed (allowed: RS256, ES256)");
    r = verify(token("ES256", ec_a, header("ES256"), claims()), allow({"RS256"}));
    EXPECT_EQ(r.error, "algorithm ES256 not allowed (allowed: RS256)");
    std::string odd = b64url(R"({"alg":"RS256\n\"x"})") + "." + b64url(claims()) + ".AAAA";
    EXPECT_EQ(verify(odd, allow({"ES256"})).error, "algorithm \"RS256\\x0a\\\"x\" not allowed (allowed: ES256)");
}

TEST_F(Jwt, Hs256WithAnRsaKeySetIsRefused) {
    // Algorithm confusion: the RSA public key, which anyone has, as an HMAC secret.
    std::string secret = bn_param(rsa_a, OSSL_PKEY_PARAM_RSA_N);
    std::string jwt = legacy_token(secret, claims());
    EXPECT_EQ(verify(jwt).error, "algorithm HS256 not allowed (allowed: RS256, ES256)");
    JwtResult r = verify(jwt, allow({"RS256", "HS256"}));
    EXPECT_FALSE(r.token);
    EXPECT_EQ(r.error, "algorithm HS256 not supported with a key set");
}

TEST_F(Jwt, CritHeaderIsRefused) {
    std::string jwt = token("RS256", rsa_a, R"({"alg":"RS256","crit":["exp"],"exp":1})", claims());
    EXPECT_EQ(verify(jwt).error, "header parameter crit is not supported");
}

TEST_F(Jwt, EmbeddedKeysAreIgnored) {
    // A header may carry a key (jwk, jku); the token's own key proves nothing.
    std::string embedded = R"({"alg":"RS256","jwk":)" + jwk_of(rsa_b, "") + R"(,"jku":"https://evil.example/"})";
    KeySet only_a = KeySet::parse(jwks({jwk_of(rsa_a, "")}));
    JwtResult r = verify_jwt(token("RS256", rsa_b, embedded, claims()), only_a, {}, kNow);
    EXPECT_EQ(r.error, "signature does not verify");
}

// ---- claims --------------------------------------------------------------------------

TEST_F(Jwt, ExpiredWithinAndBeyondLeeway) {
    JwtResult r = verify(token("RS256", rsa_a, header("RS256"), claims(-100)));
    EXPECT_FALSE(r.token);
    EXPECT_EQ(r.error, "token expired 100 s ago");
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims(-30))).token);  // default leeway 60 s
    JwtRules strict;
    strict.leeway = seconds(0);
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(-30)), strict).error, "token expired 30 s ago");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(0)), strict).error, "token expired 0 s ago");
    JwtRules lenient;
    lenient.leeway = seconds(200);
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims(-100)), lenient).token);
    // Leeway is bounded: a year of it does not revive a week-old token.
    lenient.leeway = seconds(365 * 86400);
    EXPECT_FALSE(verify(token("RS256", rsa_a, header("RS256"), claims(-7 * 86400)), lenient).token);
    lenient.leeway = seconds(-1000);
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims(10)), lenient).token);
}

TEST_F(Jwt, NotBeforeAndIssuedAtInTheFuture) {
    std::string nbf_far = ",\"nbf\":" + std::to_string(kNowSeconds + 300);
    std::string nbf_near = ",\"nbf\":" + std::to_string(kNowSeconds + 30);
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(3600, nbf_far))).error,
              "token not valid for another 300 s (nbf)");
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims(3600, nbf_near))).token);
    std::string iat_far = ",\"iat\":" + std::to_string(kNowSeconds + 120);
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(3600, iat_far))).error,
              "token issued 120 s in the future (iat)");
    JwtRules strict;
    strict.leeway = seconds(0);
    EXPECT_FALSE(verify(token("RS256", rsa_a, header("RS256"), claims(3600, nbf_near)), strict).token);
}

TEST_F(Jwt, IssuerMustBeOneOfTheRules) {
    JwtRules rules;
    rules.issuers = {"https://other.example", "https://idp.example"};
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims()), rules).token);
    rules.issuers = {"https://other.example"};
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims()), rules).error,
              "issuer \"https://idp.example\" not accepted");
    std::string no_iss = R"({"sub":"s","exp":)" + std::to_string(kNowSeconds + 60) + "}";
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), no_iss), rules).error, "token has no iss claim");
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), no_iss)).token);
}

TEST_F(Jwt, AudienceStringOrArray) {
    JwtRules rules;
    rules.audiences = {"backstage"};
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":"backstage")")), rules).token);
    EXPECT_TRUE(
        verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":["x","backstage"])")), rules).token);
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":"x")")), rules).error,
              "audience \"x\" not accepted");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":["x","y"])")), rules).error,
              "audiences \"x\", \"y\" not accepted");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims()), rules).error, "token has no aud claim");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":["x",1])")), rules).error,
              "claim aud is not a string or an array of strings");
    // No audience rule: any aud is accepted, but it must still be well-formed.
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":"x")"))).token);
    EXPECT_FALSE(verify(token("RS256", rsa_a, header("RS256"), claims(3600, R"(,"aud":{})"))).token);
}

TEST_F(Jwt, SubjectIsRequired) {
    std::string exp = std::to_string(kNowSeconds + 60);
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), R"({"exp":)" + exp + "}")).error, "token has no sub claim");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), R"({"sub":"","exp":)" + exp + "}")).error,
              "token has no sub claim");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), R"({"sub":7,"exp":)" + exp + "}")).error,
              "claim sub is not a string");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), R"({"sub":"s","iss":[],"exp":)" + exp + "}")).error,
              "claim iss is not a string");
}

TEST_F(Jwt, ExpirationMustBeAReasonableNumber) {
    auto with_exp = [&](const std::string& exp) {
        return verify(token("RS256", rsa_a, header("RS256"), R"({"sub":"s","exp":)" + exp + "}")).error;
    };
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), R"({"sub":"s"})")).error, "token has no exp claim");
    EXPECT_EQ(with_exp("\"1800000000\""), "claim exp is not a number");
    EXPECT_EQ(with_exp("null"), "claim exp is not a number");
    EXPECT_EQ(with_exp("true"), "claim exp is not a number");
    EXPECT_EQ(with_exp("1e300"), "claim exp is out of range");
    EXPECT_EQ(with_exp("-1e300"), "claim exp is out of range");
    EXPECT_EQ(with_exp("18446744073709551615"), "claim exp is out of range");
    EXPECT_EQ(with_exp("9223372036854775807"), "claim exp is out of range");
    EXPECT_EQ(with_exp("-1"), "claim exp is out of range");
    EXPECT_EQ(with_exp("8589934593"), "claim exp is out of range");
    EXPECT_EQ(with_exp("1e400"), "malformed token: payload is not a JSON object");  // RapidJSON: number too big
    EXPECT_EQ(with_exp("NaN"), "malformed token: payload is not a JSON object");
    EXPECT_EQ(with_exp("8589934592"), "");  // the bound itself: year 2242
    std::string nbf = R"({"sub":"s","exp":1800000000,"nbf":1e300})";
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), nbf)).error, "claim nbf is out of range");
}

// ---- malformed tokens ---------------------------------------------------------------------

TEST_F(Jwt, MalformedTokens) {
    std::string good = token("RS256", rsa_a, header("RS256"), claims());
    std::size_t first = good.find('.');
    std::size_t second = good.rfind('.');
    EXPECT_EQ(verify("").error, "malformed token: 1 dot-separated parts, a JWS has 3");
    EXPECT_EQ(verify(good.substr(0, second)).error, "malformed token: 2 dot-separated parts, a JWS has 3");
    EXPECT_EQ(verify(good + ".x").error, "malformed token: 4 dot-separated parts, a JWS has 3");
    EXPECT_EQ(verify("a.b.c.d.e").error,
              "malformed token: 5 dot-separated parts, a JWS has 3 (encrypted tokens are not supported)");
    EXPECT_EQ(verify("*" + good.substr(1)).error, "malformed token: header is not valid base64url");
    EXPECT_EQ(verify(good.substr(0, first + 1) + "a+b" + good.substr(second)).error,
              "malformed token: payload is not valid base64url");
    EXPECT_EQ(verify(good + "=").error, "malformed token: signature is not valid base64url");
    EXPECT_EQ(verify(good.substr(0, second + 1) + "AAA").error, "signature does not verify");
    EXPECT_EQ(verify(b64url("[1]") + "." + b64url(claims()) + ".AA").error,
              "malformed token: header is not a JSON object");
    EXPECT_EQ(verify(b64url("{\"alg\":\"RS256\"} x") + ".e30.AA").error,
              "malformed token: header is not a JSON object");
    EXPECT_EQ(verify(b64url("{\"typ\":\"JWT\"}") + ".e30.AA").error, "malformed token: header has no alg");
    EXPECT_EQ(verify(b64url("{\"alg\":256}") + ".e30.AA").error, "malformed token: header alg is not a string");
    EXPECT_EQ(verify(b64url(R"({"alg":"RS256","kid":1})") + ".e30.AA").error,
              "malformed token: header kid is not a string");
    EXPECT_EQ(verify(b64url("{\"alg\":\"RS256\",\"alg\":\"none\"}") + ".e30.AA").error,
              "malformed token: header has \"alg\" twice");
    EXPECT_EQ(verify(b64url("{\"alg\":\"RS\xff\"}") + ".e30.AA").error, "malformed token: header is not a JSON object");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), "not json")).error,
              "malformed token: payload is not a JSON object");
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), "\"a string\"")).error,
              "malformed token: payload is not a JSON object");
    std::string twice = R"({"sub":"nobody","exp":1800000000,"sub":"admin"})";
    EXPECT_EQ(verify(token("RS256", rsa_a, header("RS256"), twice)).error, "malformed token: payload has \"sub\" twice");
}

TEST_F(Jwt, LongTokensAreRefusedBeforeDecoding) {
    std::string long_token(9 * 1024, 'A');
    long_token[100] = '.';
    long_token[200] = '.';
    EXPECT_EQ(verify(long_token).error, "token too long (9216 bytes, at most 8192)");
    EXPECT_EQ(verify(std::string(9 * 1024, '\xff')).error, "token too long (9216 bytes, at most 8192)");
    EXPECT_EQ(verify_legacy_jwt(long_token, "secret", kNow).error, "token too long (9216 bytes, at most 8192)");
    // Just under the limit, a valid token still verifies.
    std::string padding(5500, 'p');
    std::string jwt = token("RS256", rsa_a, header("RS256"), claims(3600, ",\"pad\":\"" + padding + "\""));
    ASSERT_LE(jwt.size(), kMaxTokenBytes);
    EXPECT_TRUE(verify(jwt).token);
}

TEST_F(Jwt, DeepNestingIsNotRecursion) {
    std::string deep = R"({"sub":"s","exp":1800000000,"x":)" + std::string(2500, '[') + std::string(2500, ']') + "}";
    EXPECT_TRUE(verify(token("RS256", rsa_a, header("RS256"), deep)).token);
}

TEST_F(Jwt, ErrorsNeverRepeatTheSignature) {
    std::string jwt = token("RS256", rsa_a, header("RS256"), claims(-500));
    std::string sig = signature_part(jwt);
    std::string prefix = jwt.substr(0, jwt.rfind('.') + 1);
    JwtRules rules;
    rules.issuers = {"x"};
    std::vector<std::string> bad = {
        jwt,                                                         // expired
        prefix + sig.substr(1) + "A",                                // altered
        prefix + sig + "=",                                          // not base64url
        jwt + "." + sig,                                             // five parts
        b64url(header("RS256", "abc")) + "." + b64url(claims()) + "." + sig,  // unknown kid
    };
    for (const std::string& t : bad) {
        JwtResult r = verify(t, rules);
        EXPECT_FALSE(r.token);
        EXPECT_EQ(r.error.find(sig.substr(0, 16)), std::string::npos) << r.error;
        EXPECT_EQ(r.error.find(sig.substr(sig.size() - 16)), std::string::npos) << r.error;
        EXPECT_LE(r.error.size(), 160u) << r.error;
    }
    JwtResult r = verify_legacy_jwt(legacy_token("other", claims()), "secret", kNow);
    EXPECT_EQ(r.error.find(signature_part(legacy_token("other", claims())).substr(0, 16)), std::string::npos);
}

TEST_F(Jwt, StringsFromTheTokenAreEscapedAndCut) {
    JwtRules rules;
    rules.audiences = {"backstage"};
    std::string aud = R"(,"aud":"line\nbreak \u001b[31m)" + std::string(100, 'a') + "\"";
    JwtResult r = verify(token("RS256", rsa_a, header("RS256"), claims(3600, aud)), rules);
    EXPECT_EQ(r.error, "audience \"line\\x0abreak \\x1b[31m" + std::string(48, 'a') + "...\" not accepted");
}

TEST_F(Jwt, ConcurrentVerificationsShareOneKeySet) {
    std::string rs = token("RS256", rsa_a, header("RS256", "rsa-a"), claims());
    std::string es = token("ES256", ec_a, header("ES256"), claims());
    std::string bad = rs.substr(0, rs.size() - 2) + (rs.back() == 'A' ? "BA" : "AA");
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                failures[t] += !verify_jwt(rs, set, {}, kNow).token;
                failures[t] += !verify_jwt(es, set, {}, kNow).token;
                failures[t] += verify_jwt(bad, set, {}, kNow).token.has_value();
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// ---- legacy (HS256, shared secret) ------------------------------------------------------------

TEST(LegacyJwt, AcceptsBackstagesServerToken) {
    std::string configured = b64("a shared secret of 24 b.");  // options.secret as Backstage's config writes it
    std::optional<std::string> secret = base64_decode(configured);
    ASSERT_TRUE(secret);
    std::string payload = R"({"sub":"backstage-server","exp":)" + std::to_string(kNowSeconds + 3600) + "}";
    JwtResult r = verify_legacy_jwt(legacy_token(*secret, payload), *secret, kNow);
    ASSERT_TRUE(r.token) << r.error;
    EXPECT_EQ(r.token->subject, "backstage-server");
    EXPECT_EQ(r.token->expires, kNow + seconds(3600));
    // Signed with the base64 text instead of its bytes: another key.
    EXPECT_EQ(verify_legacy_jwt(legacy_token(configured, payload), *secret, kNow).error, "signature does not verify");
}

TEST(LegacyJwt, RefusesWrongSecretAlgorithmAndClaims) {
    std::string payload = R"({"sub":"backstage-server","exp":)" + std::to_string(kNowSeconds + 3600) + "}";
    JwtResult r = verify_legacy_jwt(legacy_token("secret-1", payload), "secret-2", kNow);
    EXPECT_FALSE(r.token);
    EXPECT_EQ(r.error, "signature does not verify");
    EXPECT_FALSE(r.unknown_key);
    EXPECT_EQ(verify_legacy_jwt(legacy_token("s", payload, "HS512"), "s", kNow).error,
              "algorithm HS512 not allowed (allowed: HS256)");
    EXPECT_EQ(verify_legacy_jwt(legacy_token("", payload), "", kNow).error, "no secret to verify the token with");
    std::string t = legacy_token("s", payload);
    EXPECT_EQ(verify_legacy_jwt(t.substr(0, t.rfind('.') + 1) + b64url(std::string(32, '\0')), "s", kNow).error,
              "signature does not verify");
    std::string expired = R"({"sub":"backstage-server","exp":)" + std::to_string(kNowSeconds - 61) + "}";
    EXPECT_EQ(verify_legacy_jwt(legacy_token("s", expired), "s", kNow).error, "token expired 61 s ago");
    EXPECT_TRUE(verify_legacy_jwt(legacy_token("s", expired), "s", kNow, seconds(120)).token);
    EXPECT_EQ(verify_legacy_jwt(legacy_token("s", R"({"sub":"backstage-server"})"), "s", kNow).error,
              "token has no exp claim");
    std::string no_sub = R"({"exp":)" + std::to_string(kNowSeconds + 60) + "}";
    EXPECT_EQ(verify_legacy_jwt(legacy_token("s", no_sub), "s", kNow).error, "token has no sub claim");
}
