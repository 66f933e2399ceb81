// A JSON Web Key Set (RFC 7517 5) as `auth.externalAccess` entries of
// `type: jwks` fetch it from an identity provider: the public keys tokens are
// verified with. Each usable key is turned into an OpenSSL EVP_PKEY once, when
// the set is parsed, so verifying a token builds nothing but a digest context.
// A parsed set is immutable: any number of threads may verify against it.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kerberus::auth {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept;
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The key types RFC 7518 6 defines that kerberus verifies with.
enum class KeyType {
    rsa,       // kty RSA, n and e (RFC 7518 6.3.1); 2048 to 16384 bits
    ec_p256,   // kty EC, crv P-256, x and y of 32 bytes each (RFC 7518 6.2.1)
};

struct Jwk {
    KeyType type = KeyType::rsa;
    std::string kid;  // empty when the key has none
    std::string alg;  // empty when the key has none; else the only `alg` a token may use with it (RFC 7517 4.4)
    Pkey key;         // never null
};

class KeySet {
public:
    // Parses a JWKS document: an object whose `keys` member is an array of
    // JWKs (RFC 7517 5). Keys kerberus cannot verify with are skipped, each
    // with a reason (RFC 7517 5: implementations SHOULD ignore keys with a
    // `kty` they do not understand): another kty or curve, `use` other than
    // "sig" (4.2), `key_ops` without "verify" (4.3), an `alg` that is not a
    // signature algorithm for the key's type, an RSA modulus under 2048 bits
    // (RFC 7518 3.3) or over 16384. Throws std::runtime_error naming what is
    // wrong ("keys[1].n: not base64url", "keys[0].x: 31 bytes, P-256 needs
    // 32", "not JSON: ...") when the document itself is malformed: not an
    // object, no `keys` array, a key that is not an object or has no string
    // `kty`, or a member of a supported key that is missing, of the wrong
    // JSON type, not base64url, or not a valid key (a point off the curve).
    static KeySet parse(std::string_view json);

    std::size_t size() const { return keys_.size(); }                // usable keys
    std::size_t skipped() const { return skipped_reasons_.size(); }  // keys skipped
    // One short phrase per skipped key, in document order, for the log:
    // "keys[2] (kid \"old\"): kty OKP".
    const std::vector<std::string>& skipped_reasons() const { return skipped_reasons_; }
    const std::vector<Jwk>& keys() const { return keys_; }
    // "2 keys, 1 skipped (kty OKP)": the set's size and the skipped keys'
    // reasons without their place, for one log line.
    std::string summary() const;

private:
    std::vector<Jwk> keys_;
    std::vector<std::string> skipped_reasons_;
    std::vector<std::string> skipped_why_;  // the reasons without "keys[i] (kid ...): ", for summary()
};

}  // namespace kerberus::auth
