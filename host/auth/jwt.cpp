#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace kerberus::auth {

namespace {

using Json = rapidjson::Value;
using Seconds = std::int64_t;

// RFC 7519 NumericDate values outside [0, 2^33] s (1970 to 2242) are refused:
// the bound keeps every conversion defined (a double beyond int64 is UB to
// convert) and system_clock's nanoseconds from overflowing (year 2262).
constexpr double kMaxNumericDate = 8589934592.0;
constexpr std::size_t kShownBytes = 64;
constexpr std::size_t kEs256SignatureBytes = 64;  // RFC 7518 3.4: r || s, 32 bytes each

// A refusal on the way: verify_* turn it into their result.
struct Refused {
    std::string error;
    bool unknown_key = false;
};

[[noreturn]] void refuse(std::string error, bool unknown_key = false) { throw Refused{std::move(error), unknown_key}; }

// A string taken from the token, made fit for a log line and a response
// body: quoted, control and non-ASCII bytes escaped, cut short.
std::string shown(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < kShownBytes; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + (s.size() > kShownBytes ? "...\"" : "\"");
}

// An algorithm name bare when it looks like one ("HS256"), else shown().
std::string alg_name(std::string_view alg) {
    bool plain = !alg.empty() && alg.size() <= 16 && std::all_of(alg.begin(), alg.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    return plain ? std::string(alg) : shown(alg);
}

// ---- base64 (RFC 4648) -------------------------------------------------

int sextet(char c, bool url) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

// Unpadded base64 of either alphabet. A length of 1 mod 4 cannot be
// complete, and the bits after the last whole byte must be zero (RFC 4648
// 3.5), so each byte string has exactly one accepted spelling.
std::optional<std::string> decode_unpadded(std::string_view text, bool url) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        int v = sextet(c, url);
        if (v < 0) return std::nullopt;
        bits = (bits << 6 | static_cast<std::uint32_t>(v)) & 0xffffu;
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xffu);
        }
    }
    if ((bits & ((1u << count) - 1u)) != 0) return std::nullopt;
    return out;
}

// ---- the token's parts ---------------------------------------------------

struct Parts {
    std::string_view signing_input;  // header.payload, what the signature covers (RFC 7515 5.2)
    std::string header;
    std::string payload;
    std::string signature;
};

Parts split(std::string_view token) {
    // Checked before anything is decoded: the cost of a refusal stays bounded.
    if (token.size() > kMaxTokenBytes) {
        refuse("token too long (" + std::to_string(token.size()) + " bytes, at most " +
               std::to_string(kMaxTokenBytes) + ")");
    }
    std::size_t dots = static_cast<std::size_t>(std::count(token.begin(), token.end(), '.'));
    if (dots != 2) {
        refuse("malformed token: " + std::to_string(dots + 1) + " dot-separated parts, a JWS has 3" +
               (dots == 4 ? " (encrypted tokens are not supported)" : ""));
    }
    std::size_t first = token.find('.');
    std::size_t second = token.find('.', first + 1);
    auto decoded = [](std::string_view text, const char* part) {
        std::optional<std::string> bytes = base64url_decode(text);
        if (!bytes) refuse(std::string("malformed token: ") + part + " is not valid base64url");
        return std::move(*bytes);
    };
    Parts parts;
    parts.signing_input = token.substr(0, second);
    parts.header = decoded(token.substr(0, first), "header");
    parts.payload = decoded(token.substr(first + 1, second - first - 1), "payload");
    parts.signature = decoded(token.substr(second + 1), "signature");
    return parts;
}

std::string_view text_of(const Json& v) { return {v.GetString(), v.GetStringLength()}; }

// RFC 7515 4 and RFC 7519 4: a parser MUST either refuse duplicate member
// names or take the last; RapidJSON finds the first, so duplicates are
// refused (else a reader taking the last would see another token).
void refuse_duplicates(const Json& object, const char* part) {
    std::vector<std::string_view> names;
    names.reserve(object.MemberCount());
    for (const auto& m : object.GetObject()) names.push_back(text_of(m.name));
    std::sort(names.begin(), names.end());
    auto twice = std::adjacent_find(names.begin(), names.end());
    if (twice != names.end()) refuse(std::string("malformed token: ") + part + " has " + shown(*twice) + " twice");
}

void parse_object(rapidjson::Document& doc, const std::string& json, const char* part) {
    // Iterative parsing: nesting depth must not become stack depth.
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        refuse(std::string("malformed token: ") + part + " is not a JSON object");
    }
    refuse_duplicates(doc, part);
}

const Json* member(const Json& object, const char* name) {
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> string_member(const Json& object, const char* name, const char* what) {
    const Json* v = member(object, name);
    if (!v) return std::nullopt;
    if (!v->IsString()) refuse(std::string(what) + " " + name + " is not a string");
    return text_of(*v);
}

// ---- the header (RFC 7515 4.1) -------------------------------------------

struct Header {
    std::string alg;
    std::optional<std::string> kid;
};

Header read_header(const std::string& json) {
    rapidjson::Document doc;
    parse_object(doc, json, "header");
    std::optional<std::string_view> alg = string_member(doc, "alg", "malformed token: header");
    if (!alg) refuse("malformed token: header has no alg");
    // RFC 7515 4.1.11: a recipient MUST refuse a token whose crit names an
    // extension it does not understand; it understands none.
    if (member(doc, "crit")) refuse("header parameter crit is not supported");
    Header header{std::string(*alg), std::nullopt};
    // An empty kid names nothing: keys without a kid are held with an empty one.
    auto kid = string_member(doc, "kid", "malformed token: header");
    if (kid && !kid->empty()) header.kid = std::string(*kid);
    return header;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

// `alg: none` first: an allow-list naming it (by mistake) must not open
// the door to unsigned tokens.
void check_alg(std::string_view alg, const std::vector<std::string>& allowed) {
    if (alg == "none") refuse("unsigned token (alg none) refused");
    if (std::find(allowed.begin(), allowed.end(), alg) == allowed.end()) {
        refuse("algorithm " + alg_name(alg) + " not allowed (allowed: " + joined(allowed) + ")");
    }
}

// ---- signatures ------------------------------------------------------------

struct Algorithm {
    std::string_view name;
    KeyType key;
    const EVP_MD* (*digest)();
    bool pss;
};

const Algorithm* find_algorithm(std::string_view name) {
    static const std::array<Algorithm, 7> kAlgorithms{{
        {"RS256", KeyType::rsa, EVP_sha256, false},
        {"RS384", KeyType::rsa, EVP_sha384, false},
        {"RS512", KeyType::rsa, EVP_sha512, false},
        {"PS256", KeyType::rsa, EVP_sha256, true},
        {"PS384", KeyType::rsa, EVP_sha384, true},
        {"PS512", KeyType::rsa, EVP_sha512, true},
        {"ES256", KeyType::ec_p256, EVP_sha256, false},
    }};
    for (const Algorithm& a : kAlgorithms) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG* sig) const noexcept { ECDSA_SIG_free(sig); }
};

// RFC 7518 3.4: JWS carries r || s; EVP verifies the DER of SEC 1.
std::optional<std::string> es256_der(const std::string& raw) {
    if (raw.size() != kEs256SignatureBytes) return std::nullopt;
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
    BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        throw std::bad_alloc();
    }
    int length = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (length <= 0) throw std::bad_alloc();
    std::string der(static_cast<std::size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != length) throw std::bad_alloc();
    return der;
}

bool digest_verify(const Algorithm& alg, EVP_PKEY* key, std::string_view input, std::string_view signature) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::bad_alloc();
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, alg.digest(), nullptr, key) != 1) return false;
    // RFC 7518 3.5: MGF1 with the same hash (OpenSSL's default for PSS) and
    // a salt as long as the hash, required exactly.
    if (alg.pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

bool verifies(const Algorithm& alg, const Jwk& jwk, std::string_view input, const std::string& signature) {
    if (alg.key == KeyType::rsa) {
        // RFC 8017 8.1.2, 8.2.2: the signature is exactly the modulus' length.
        if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(jwk.key.get()))) return false;
        return digest_verify(alg, jwk.key.get(), input, signature);
    }
    std::optional<std::string> der = es256_der(signature);
    return der && digest_verify(alg, jwk.key.get(), input, *der);
}

bool fits(const Jwk& jwk, const Algorithm& alg) { return jwk.type == alg.key && (jwk.alg.empty() || jwk.alg == alg.name); }

const char* type_name(KeyType type) { return type == KeyType::rsa ? "an RSA key" : "an EC P-256 key"; }

// The keys to try: those named by kid, else all that fit the algorithm.
std::vector<const Jwk*> candidates(const KeySet& keys, const Algorithm& alg, const std::optional<std::string>& kid) {
    std::vector<const Jwk*> named;
    std::vector<const Jwk*> usable;
    for (const Jwk& jwk : keys.keys()) {
        if (kid && jwk.kid != *kid) continue;
        named.push_back(&jwk);
        if (fits(jwk, alg)) usable.push_back(&jwk);
    }
    if (kid && named.empty()) refuse("no key with kid " + shown(*kid) + " in the key set", true);
    if (usable.empty() && kid) {
        const Jwk& key = *named.front();
        refuse("key " + shown(*kid) + " is " + type_name(key.type) +
               (key.alg.empty() ? "" : " for " + key.alg) + ", not for " + std::string(alg.name));
    }
    if (usable.empty()) refuse("no key in the key set for algorithm " + std::string(alg.name));
    return usable;
}

// ---- claims (RFC 7519 4.1) ---------------------------------------------------

// A NumericDate (RFC 7519 2): integer or fraction, in whole seconds (a
// fraction is cut: at most a second earlier).
std::optional<Seconds> date_claim(const Json& claims, const char* name) {
    const Json* v = member(claims, name);
    if (!v) return std::nullopt;
    if (!v->IsNumber()) refuse(std::string("claim ") + name + " is not a number");
    double value = v->IsInt64() ? static_cast<double>(v->GetInt64()) : v->GetDouble();
    if (!(value >= 0.0 && value <= kMaxNumericDate)) refuse(std::string("claim ") + name + " is out of range");
    return static_cast<Seconds>(value);
}

void check_times(const Json& claims, Seconds now, Seconds leeway, Seconds& expires) {
    std::optional<Seconds> exp = date_claim(claims, "exp");
    std::optional<Seconds> nbf = date_claim(claims, "nbf");
    std::optional<Seconds> iat = date_claim(claims, "iat");
    if (!exp) refuse("token has no exp claim");
    if (now - leeway >= *exp) refuse("token expired " + std::to_string(now - *exp) + " s ago");
    if (nbf && *nbf > now + leeway) refuse("token not valid for another " + std::to_string(*nbf - now) + " s (nbf)");
    if (iat && *iat > now + leeway) refuse("token issued " + std::to_string(*iat - now) + " s in the future (iat)");
    expires = *exp;
}

// `aud`: one string or an array of strings (RFC 7519 4.1.3).
std::vector<std::string_view> audiences(const Json& claims) {
    const Json* aud = member(claims, "aud");
    if (!aud) return {};
    if (aud->IsString()) return {text_of(*aud)};
    if (!aud->IsArray()) refuse("claim aud is not a string or an array of strings");
    std::vector<std::string_view> out;
    for (const Json& v : aud->GetArray()) {
        if (!v.IsString()) refuse("claim aud is not a string or an array of strings");
        out.push_back(text_of(v));
    }
    return out;
}

void check_audience(const Json& claims, const std::vector<std::string>& accepted) {
    std::vector<std::string_view> given = audiences(claims);
    if (accepted.empty()) return;
    if (given.empty()) refuse("token has no aud claim");
    for (std::string_view aud : given) {
        if (std::find(accepted.begin(), accepted.end(), aud) != accepted.end()) return;
    }
    std::string list;
    for (std::size_t i = 0; i < given.size() && i < 3; ++i) list += (i ? ", " : "") + shown(given[i]);
    if (given.size() > 3) list += ", ...";
    refuse((given.size() == 1 ? "audience " : "audiences ") + list + " not accepted");
}

VerifiedToken check_claims(const std::string& payload, const JwtRules& rules, Seconds now) {
    rapidjson::Document claims;
    parse_object(claims, payload, "payload");
    Seconds leeway = std::clamp(rules.leeway, std::chrono::seconds(0), kMaxLeeway).count();
    Seconds exp = 0;
    check_times(claims, now, leeway, exp);
    std::optional<std::string_view> iss = string_member(claims, "iss", "claim");
    if (!rules.issuers.empty()) {
        if (!iss) refuse("token has no iss claim");
        if (std::find(rules.issuers.begin(), rules.issuers.end(), *iss) == rules.issuers.end()) {
            refuse("issuer " + shown(*iss) + " not accepted");
        }
    }
    check_audience(claims, rules.audiences);
    std::optional<std::string_view> sub = string_member(claims, "sub", "claim");
    if (!sub || sub->empty()) refuse("token has no sub claim");
    VerifiedToken token;
    token.subject = std::string(*sub);
    token.issuer = std::string(iss.value_or(""));
    token.expires = std::chrono::system_clock::time_point(std::chrono::seconds(exp));
    return token;
}

Seconds seconds_of(std::chrono::system_clock::time_point now) {
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

// Runs a verification, turning every exception into a refusal: none may
// reach the request path.
template <typename Verify>
JwtResult guarded(Verify verify) {
    try {
        return JwtResult{verify(), {}, false};
    } catch (const Refused& refused) {
        return JwtResult{std::nullopt, refused.error, refused.unknown_key};
    } catch (const std::bad_alloc&) {
        return JwtResult{std::nullopt, "out of memory verifying the token", false};
    } catch (...) {
        return JwtResult{std::nullopt, "internal error verifying the token", false};
    }
}

const std::vector<std::string>& default_algorithms() {
    static const std::vector<std::string> kDefault{"RS256", "ES256"};
    return kDefault;
}

}  // namespace

JwtResult verify_jwt(std::string_view token, const KeySet& keys, const JwtRules& rules,
                     std::chrono::system_clock::time_point now) {
    return guarded([&] {
        Parts parts = split(token);
        Header header = read_header(parts.header);
        check_alg(header.alg, rules.algorithms.empty() ? default_algorithms() : rules.algorithms);
        const Algorithm* alg = find_algorithm(header.alg);
        if (!alg) refuse("algorithm " + alg_name(header.alg) + " not supported with a key set");
        bool verified = false;
        for (const Jwk* jwk : candidates(keys, *alg, header.kid)) {
            if (verifies(*alg, *jwk, parts.signing_input, parts.signature)) {
                verified = true;
                break;
            }
        }
        if (!verified) refuse("signature does not verify");
        VerifiedToken verified_token = check_claims(parts.payload, rules, seconds_of(now));
        verified_token.key_id = header.kid.value_or("");
        return verified_token;
    });
}

JwtResult verify_legacy_jwt(std::string_view token, std::string_view secret, std::chrono::system_clock::time_point now,
                            std::chrono::seconds leeway) {
    return guarded([&] {
        Parts parts = split(token);
        Header header = read_header(parts.header);
        static const std::vector<std::string> kHs256{"HS256"};
        check_alg(header.alg, kHs256);
        if (secret.empty()) refuse("no secret to verify the token with");
        std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
        std::size_t mac_length = 0;
        if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                       reinterpret_cast<const unsigned char*>(parts.signing_input.data()), parts.signing_input.size(),
                       mac.data(), mac.size(), &mac_length)) {
            throw std::bad_alloc();
        }
        // Constant time: a comparison that stops at the first difference
        // tells a forger how many leading bytes were right.
        if (parts.signature.size() != mac_length ||
            CRYPTO_memcmp(parts.signature.data(), mac.data(), mac_length) != 0) {
            refuse("signature does not verify");
        }
        JwtRules rules;
        rules.leeway = leeway;
        VerifiedToken verified = check_claims(parts.payload, rules, seconds_of(now));
        verified.key_id = header.kid.value_or("");
        return verified;
    });
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
    // A third `=`, or one inside, is not in the alphabet and fails below.
    return decode_unpadded(text.substr(0, text.size() - padding), false);
}

std::optional<std::string> base64url_decode(std::string_view text) { return decode_unpadded(text, true); }

}  // namespace kerberus::auth
