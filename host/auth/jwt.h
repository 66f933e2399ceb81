// Bearer tokens of Backstage-style route authentication: JSON Web Tokens in
// JWS compact serialization (RFC 7515 7.1, RFC 7519), verified against a JSON
// Web Key Set (`auth.externalAccess` entries of `type: jwks`) or a shared
// HMAC secret (`type: legacy`). Tokens come from anyone who can reach a
// route, so everything here takes hostile input: bounded sizes, strict
// decoding, no exception escapes, and error phrases that never repeat the
// token or its signature (they go to the log and to the 401 body).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwks.h"

namespace kerberus::auth {

// Longer tokens are refused before anything is decoded. Backstage's own
// tokens are well under 2 KiB; 8 KiB is also a common header-size limit.
constexpr std::size_t kMaxTokenBytes = 8192;
// `leeway` is clamped to [0, kMaxLeeway]: a larger one would make `exp`
// meaningless, and the bound keeps the time arithmetic far from overflow.
constexpr std::chrono::seconds kMaxLeeway{24 * 3600};

// What a token must satisfy besides its signature.
struct JwtRules {
    std::vector<std::string> issuers;     // empty: any `iss`; else `iss` must equal one
    std::vector<std::string> audiences;   // empty: any; else `aud` (string or array) must contain one
    // Allowed `alg` values; empty means {"RS256", "ES256"}. verify_jwt
    // supports RS256 RS384 RS512 PS256 PS384 PS512 ES256; a name here it
    // does not support (HS256 included: that is verify_legacy_jwt's) never
    // verifies.
    std::vector<std::string> algorithms;
    std::chrono::seconds leeway{60};      // clock skew allowed for exp / nbf / iat
};

struct VerifiedToken {
    std::string subject;   // `sub` claim (required, non-empty string)
    std::string issuer;    // `iss` or empty
    std::string key_id;    // header `kid` or empty
    std::chrono::system_clock::time_point expires;  // `exp` (required)
};

// The outcome: a token, or why not in `error` (a short English phrase for a
// log line and a 401 body: "token expired 42 s ago", "signature does not
// verify"). Strings taken from the token (kid, iss, aud, alg) are quoted,
// cut to 64 bytes and escaped. `unknown_key` is true exactly when the token
// names a `kid` that no key in the set has, so the caller may refetch the
// set (keys rotate); a token without `kid` that no key verifies is a
// signature failure.
struct JwtResult {
    std::optional<VerifiedToken> token;
    std::string error;
    bool unknown_key = false;
};

// Verifies a compact JWS `header.payload.signature` against `keys`.
// Header (RFC 7515 4.1): `alg` must be in `rules.algorithms` and fit the key
// (an RSA key for RS*/PS*, EC P-256 for ES256; a key's own `alg` must equal
// it); `alg: none` is always refused; a `crit` member is refused (none of
// its extensions is understood, RFC 7515 4.1.11); `jku`, `jwk`, `x5u` and
// `x5c` are ignored: keys come from `keys` only. Duplicate member names in
// the header or the claims are refused (RFC 7515 4, RFC 7519 4).
// Key: the one(s) whose `kid` equals the header's; without `kid`, every key
// that fits `alg` is tried and one verifying suffices.
// Signatures: RS* RSASSA-PKCS1-v1_5 (RFC 7518 3.3); PS* RSASSA-PSS with MGF1
// of the same hash and a salt of the hash's size (3.5); ES256 the 64-byte
// r||s (3.4), nothing else.
// Claims (RFC 7519 4.1), checked only once the signature verifies: `exp`
// required, `nbf` and `iat` (iat must not lie in the future) honoured, each
// with `rules.leeway`; numbers may be integers or fractions, between 0 and
// 2^33 s (year 2242); `iss` and `aud` per `rules`; `sub` required.
// Errors: "token too long", "malformed token: ...", "algorithm HS256 not
// allowed (allowed: RS256, ES256)", "no key with kid \"abc\" in the key
// set" (unknown_key), "signature does not verify", "token expired 42 s ago",
// "audience \"x\" not accepted", "token has no sub claim", and the like.
JwtResult verify_jwt(std::string_view token, const KeySet& keys, const JwtRules& rules,
                     std::chrono::system_clock::time_point now);

// Backstage's `type: legacy` external access tokens: HS256 JWTs (RFC 7518
// 3.2) signed with a shared secret, which Backstage's config writes base64
// encoded (`options.secret`; decode it with base64_decode). `secret` here
// is the decoded bytes; an empty one verifies nothing. The header is read
// as for verify_jwt, with HS256 the only algorithm; the MAC is compared in
// constant time. Claims: `exp` and `sub` required (Backstage writes sub
// "backstage-server"), `nbf`/`iat` honoured with `leeway`; `iss` and `aud`
// are not checked.
JwtResult verify_legacy_jwt(std::string_view token, std::string_view secret, std::chrono::system_clock::time_point now,
                            std::chrono::seconds leeway = std::chrono::seconds(60));

// RFC 4648 4: the standard alphabet, padded to a multiple of 4 with `=`, as
// Backstage writes `secret`. nullopt for anything else: a byte outside the
// alphabet (whitespace too), wrong or missing padding, non-zero unused bits.
std::optional<std::string> base64_decode(std::string_view text);
// RFC 4648 5 without padding, as JWS uses it (RFC 7515 2): `-` and `_`, no
// `=`, length not 1 mod 4, unused bits zero (so each value has one spelling
// and a signature cannot be altered without failing). nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace kerberus::auth
