// fuzz_jwt: bearer tokens and key sets (host/auth/jwt.cpp, jwks.cpp), which
// take bytes from anyone who can reach a route (tokens) or from an identity
// provider's URL (key sets).
//
// Input: a first byte choosing what the rest is (its value mod 6):
//   0  a token for verify_jwt against a fixed key set (RSA kid "fuzz-rsa",
//      EC P-256 kid "fuzz-ec", the RSA key again bound to PS256) and fixed
//      rules (every algorithm verify_jwt has plus HS256, one issuer, one
//      audience), at a fixed now (1700000000);
//   1  a token for verify_legacy_jwt with a fixed secret;
//   2  a header JSON, a newline, a claims JSON: made into a token with a
//      correct HS256 MAC and given to verify_legacy_jwt, so the claims code
//      sees every input the fuzzer makes (a signature it cannot forge would
//      stop the others at the signature check);
//   3  a key set for KeySet::parse; a set that parses verifies a fixed
//      RS256 token (kid "fuzz-rsa");
//   4  text for base64_decode; 5  text for base64url_decode.
// Findings, besides any sanitizer report and any exception:
//   - a result with both or neither of a token and an error; `unknown_key`
//     without an error saying no key has the kid;
//   - an error that is empty of meaning for a log line: longer than 300
//     bytes, or holding a byte that is not printable ASCII;
//   - an accepted token without a subject, expired beyond the leeway, or
//     (0) from another issuer;
//   - KeySet::parse throwing anything but std::runtime_error, or counting
//     more keys than the document has;
//   - decoded base64 that does not encode back to the very input (each
//     value has exactly one accepted spelling).
#include <openssl/evp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../support/jwt_signing.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "finding.h"

namespace {

using namespace kerberus::auth;
using kerberus::fuzz::finding;
using kerberus::fuzz::quoted;

const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'700'000'000)};
constexpr std::string_view kSecret = "kerberus fuzz legacy secret 24b";

constexpr std::string_view kKeySet =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fuzz-rsa\",\"use\":\"sig\",\"n\":\"w4ROCsya-XxCtGNZIes6CKoivJ9JSJGKk_ueGsIe"
    "8ZyTLz10RFUjXhPwfXjyzcwTHeDbgink-Qd9XghMowRhUNu4d3cSlVw8fMSjtV0atSQ9afcaGi5O-HonnPup4J3PeDkCO5Vc"
    "dbumUiyfbrg5TWVhXyMmma0Ad1QkbEgu3Oly_Mz_vAwyF9r6P1bQlKv9XCaDIf8_6ackk2D6j7mY4G2cP5c1Xp2ecCDDuknt"
    "N0hOuRYXYzdO-DK1-rIO2Za8IuCrty7sKe_Rc3jVGapfjeENWfKYkrY_nDjFse_wZplpTFaxvws4n0naZAdEwdGCQwtDYG0V"
    "YV71mskOgFUlCQ\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"fuzz-ec\",\"crv\":\"P-256\",\"x\":\"Mmd_4Bqs_WpLtcDztlMSz"
    "Jk0TzvFy3UuyvVAkyymjQc\",\"y\":\"d-vbF7dE7FtALcG4-WFrg_Fnff4qOXKvRMU5sutj4SM\"},{\"kty\":\"RSA\",\"n\":\"w4R"
    "OCsya-XxCtGNZIes6CKoivJ9JSJGKk_ueGsIe8ZyTLz10RFUjXhPwfXjyzcwTHeDbgink-Qd9XghMowRhUNu4d3cSlVw8fMS"
    "jtV0atSQ9afcaGi5O-HonnPup4J3PeDkCO5VcdbumUiyfbrg5TWVhXyMmma0Ad1QkbEgu3Oly_Mz_vAwyF9r6P1bQlKv9XCa"
    "DIf8_6ackk2D6j7mY4G2cP5c1Xp2ecCDDukntN0hOuRYXYzdO-DK1-rIO2Za8IuCrty7sKe_Rc3jVGapfjeENWfKYkrY_nDj"
    "Fse_wZplpTFaxvws4n0naZAdEwdGCQwtDYG0VYV71mskOgFUlCQ\",\"e\":\"AQAB\",\"alg\":\"PS256\"}]}";

constexpr std::string_view kRs256Token =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enotcnNhIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c2VyOmRlZmF1bHQvZnV6eiIs"
    "ImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUiLCJhdWQiOlsiYmFja3N0YWdlIiwieCJdLCJleHAiOjE4MDAwMDAwMDAsIm5i"
    "ZiI6MTY5OTk5OTAwMCwiaWF0IjoxNjk5OTk5MDAwfQ.wSFz0h3RZ0l9XQ7WIWL40BZPUTEvjqhc6CPXPmKgah8QC1S_ZjT0t"
    "JupBM4pq9bym6LbiFnn72Dve54wcxEuQNHNiNqq0TiUp36TQ3gqrhPub7c_Jm6GuX-hDd8ahRpIUnGWN48lkQpGEbWPTdbYF"
    "2sMTa1dwRf9IuijN50eK_DsAHgYFl8dLNaOBufuH9Vs6Ay1gfsKENqZSBIIc_HxdHPcqrEc3LxiifxQTucBsqILG0X4hKfvd"
    "ZjdjRf_J0PuRgJTsHfxvu4-7QgzP6NDofq5mWHnU-T_cjSBlt__3D1VWMou6x0A-YFxJepXa-GtfsmZoo7874woW5u99V-3E"
    "A";

const KeySet& key_set() {
    static const KeySet keys = KeySet::parse(kKeySet);
    return keys;
}

const JwtRules& rules() {
    static const JwtRules r = [] {
        JwtRules rules;
        rules.issuers = {"https://idp.example"};
        rules.audiences = {"backstage"};
        rules.algorithms = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "HS256"};
        return rules;
    }();
    return r;
}

// What RFC 4648 says `bytes` are in base64url (no padding) or base64.
std::string encode(std::string_view bytes, bool url) {
    return url ? kerberus::test::jwt::b64url(bytes) : kerberus::test::jwt::b64(bytes);
}

void check_result(const JwtResult& r, std::string_view input, const char* how) {
    if (r.token.has_value() == !r.error.empty()) finding("a result with both or neither of token and error", how);
    if (r.unknown_key && (r.token || r.error.rfind("no key with kid ", 0) != 0)) {
        finding("unknown_key without a missing kid", quoted(r.error));
    }
    if (r.error.size() > 300) finding("an error longer than 300 bytes", quoted(r.error));
    for (char c : r.error) {
        if (c < 0x20 || c > 0x7e) finding("an error with a byte a log line should not hold", quoted(r.error) + " for " + quoted(input));
    }
    if (!r.token) return;
    if (r.token->subject.empty()) finding("an accepted token without a subject", quoted(input));
    if (r.token->expires <= kNow - std::chrono::seconds(60)) finding("an accepted expired token", quoted(input));
}

std::string hs256(std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kSecret.data(), kSecret.size(),
                   reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac, &length)) {
        finding("HMAC failed", "");
    }
    return std::string(reinterpret_cast<const char*>(mac), length);
}

void fuzz_jwks_token(std::string_view input) {
    JwtResult r = verify_jwt(input, key_set(), rules(), kNow);
    check_result(r, input, "verify_jwt");
    if (r.token && r.token->issuer != "https://idp.example") finding("an accepted token from another issuer", quoted(input));
}

void fuzz_signed_claims(std::string_view input) {
    std::size_t newline = input.find('\n');
    if (newline == std::string_view::npos) return;
    std::string signing_input = encode(input.substr(0, newline), true) + "." + encode(input.substr(newline + 1), true);
    std::string token = signing_input + "." + encode(hs256(signing_input), true);
    check_result(verify_legacy_jwt(token, kSecret, kNow), input, "verify_legacy_jwt, signed");
}

void fuzz_key_set(std::string_view input) {
    std::optional<KeySet> keys;
    try {
        keys.emplace(KeySet::parse(input));
    } catch (const std::runtime_error&) {
        return;
    }
    // Each key is at least `{"kty":"EC"}` (12 bytes) long.
    if (keys->size() + keys->skipped() > input.size() / 12) finding("more keys than the document holds", quoted(input));
    for (const Jwk& jwk : keys->keys()) {
        if (!jwk.key) finding("a usable key without an EVP_PKEY", quoted(input));
    }
    check_result(verify_jwt(kRs256Token, *keys, rules(), kNow), input, "verify_jwt, fuzzed key set");
}

void fuzz_base64(std::string_view input, bool url) {
    std::optional<std::string> bytes = url ? base64url_decode(input) : base64_decode(input);
    if (bytes && encode(*bytes, url) != input) {
        finding("decoded base64 that does not encode back to the input",
                quoted(input) + " decoded to " + quoted(*bytes) + ", encodes as " + quoted(encode(*bytes, url)));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
    case 0: fuzz_jwks_token(input); break;
    case 1: check_result(verify_legacy_jwt(input, kSecret, kNow), input, "verify_legacy_jwt"); break;
    case 2: fuzz_signed_claims(input); break;
    case 3: fuzz_key_set(input); break;
    case 4: fuzz_base64(input, false); break;
    default: fuzz_base64(input, true); break;
    }
    return 0;
}
