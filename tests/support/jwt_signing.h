// Making keys, key sets and signed tokens for tests of route authentication
// (RFC 7515, 7517, 7518), with OpenSSL. Shared by the unit tests of the
// verifier and the integration tests that send tokens to kerberusd.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kerberus::test::jwt {

struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

inline std::string b64url(std::string_view bytes) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                     static_cast<unsigned char>(bytes[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
    }
    if (bytes.size() - i == 1) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        for (int shift : {18, 12}) out += kAlphabet[(v >> shift) & 63];
    } else if (bytes.size() - i == 2) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8;
        for (int shift : {18, 12, 6}) out += kAlphabet[(v >> shift) & 63];
    }
    return out;
}

inline std::string b64(std::string_view bytes) {
    std::string out = b64url(bytes);
    for (char& c : out) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (out.size() % 4) out += '=';
    return out;
}

inline Key generate(const char* type) {
    EVP_PKEY* key = std::string_view(type) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                                                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (!key) throw std::runtime_error("key generation failed");
    return Key(key);
}

inline std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
    BIGNUM* bn = nullptr;
    if (!EVP_PKEY_get_bn_param(key, name, &bn)) throw std::runtime_error(name);
    std::string out(pad ? pad : BN_num_bytes(bn), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
}

// One JWK of the key's public half; `extra` is added members ("\"use\":\"sig\",").
inline std::string jwk_of(EVP_PKEY* key, const std::string& kid, const std::string& extra = "") {
    std::string id = kid.empty() ? "" : "\"kid\":\"" + kid + "\",";
    if (EVP_PKEY_is_a(key, "RSA")) {
        return "{" + id + extra + "\"kty\":\"RSA\",\"n\":\"" + b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) +
               "\",\"e\":\"" + b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + "\"}";
    }
    return "{" + id + extra + "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" +
           b64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)) + "\",\"y\":\"" +
           b64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + "\"}";
}

inline std::string jwks(const std::vector<std::string>& keys) {
    std::string out = "{\"keys\":[";
    for (std::size_t i = 0; i < keys.size(); ++i) out += (i ? "," : "") + keys[i];
    return out + "]}";
}

inline const EVP_MD* digest_of(std::string_view alg) {
    if (alg.ends_with("384")) return EVP_sha384();
    if (alg.ends_with("512")) return EVP_sha512();
    return EVP_sha256();
}

// The signature of `input` as JWS carries it for `alg`.
inline std::string signature(std::string_view alg, EVP_PKEY* key, std::string_view input) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestSignInit(ctx.get(), &pctx, digest_of(alg), nullptr, key) != 1) throw std::runtime_error("init");
    if (alg.starts_with("PS")) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size());
    std::string sig(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &length, data, input.size()) != 1) {
        throw std::runtime_error("sign");
    }
    sig.resize(length);
    if (!alg.starts_with("ES")) return sig;
    // DER (SEC 1) to the r || s of RFC 7518 3.4.
    const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(parsed);
    return raw;
}

inline std::string hmac(std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
              reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac, &length);
    return std::string(reinterpret_cast<char*>(mac), length);
}

// A JWS compact token: `head` and `payload` are the JSON texts.
inline std::string token(std::string_view alg, EVP_PKEY* key, const std::string& head, const std::string& payload) {
    std::string input = b64url(head) + "." + b64url(payload);
    return input + "." + b64url(signature(alg, key, input));
}

// A token of Backstage's `legacy` kind: HS256 with a shared secret.
inline std::string legacy_token(std::string_view secret, const std::string& head, const std::string& payload) {
    std::string input = b64url(head) + "." + b64url(payload);
    return input + "." + b64url(hmac(secret, input));
}

}  // namespace kerberus::test::jwt
