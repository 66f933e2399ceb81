#include "auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <utility>

#include "auth/jwt.h"

namespace kerberus::auth {

void PkeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

namespace {

using Json = rapidjson::Value;

// RFC 7518 3.3: keys under 2048 bits MUST NOT be used. The upper bound keeps
// a hostile key set from making each verification arbitrarily slow.
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
// SP 800-56B allows public exponents up to 2^256; larger ones only slow
// verification down.
constexpr std::size_t kMaxRsaExponentBytes = 32;
constexpr std::size_t kP256CoordinateBytes = 32;

struct BnFree {
    void operator()(BIGNUM* bn) const noexcept { BN_free(bn); }
};
struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* bld) const noexcept { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* params) const noexcept { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using Params = std::unique_ptr<OSSL_PARAM, ParamFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw std::runtime_error(where + ": " + what);
}

std::string_view text_of(const Json& v) { return {v.GetString(), v.GetStringLength()}; }

// A member by name; nullptr when absent. (RapidJSON keeps duplicates and
// finds the first; a key set is the provider's, not a caller's, so the
// first one wins like any JSON reader that keeps one.)
const Json* member(const Json& object, const char* name) {
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

// A string member: nullopt when absent, an error when not a string.
std::optional<std::string_view> string_member(const Json& key, const char* name, const std::string& where) {
    const Json* v = member(key, name);
    if (!v) return std::nullopt;
    if (!v->IsString()) fail(where + "." + name, "not a string");
    return text_of(*v);
}

// A required base64url member, decoded.
std::string bytes_member(const Json& key, const char* name, const std::string& where) {
    std::optional<std::string_view> text = string_member(key, name, where);
    if (!text) fail(where + "." + name, "missing");
    std::optional<std::string> bytes = base64url_decode(*text);
    if (!bytes) fail(where + "." + name, "not base64url");
    if (bytes->empty()) fail(where + "." + name, "empty");
    return std::move(*bytes);
}

// Quoted and cut, for names taken from the document into a log line.
std::string shown(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < 64; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        out += (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : static_cast<char>(c);
    }
    return out + (s.size() > 64 ? "...\"" : "\"");
}

Bn bignum(const std::string& bytes) {
    Bn bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
    if (!bn) throw std::bad_alloc();
    return bn;
}

Pkey from_params(const char* type, OSSL_PARAM_BLD* bld, const std::string& where) {
    Params params(OSSL_PARAM_BLD_to_param(bld));
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx) throw std::bad_alloc();
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || !raw) {
        fail(where, std::string("not a valid ") + type + " public key");
    }
    return Pkey(raw);
}

// Why an RSA key is unusable (skipped), or the key.
struct Built {
    Pkey key;
    std::string skip;  // non-empty: skip the key for this reason
};

Built rsa_key(const Json& jwk, const std::string& where) {
    std::string n = bytes_member(jwk, "n", where);
    std::string e = bytes_member(jwk, "e", where);
    Bn nb = bignum(n);
    Bn eb = bignum(e);
    int bits = BN_num_bits(nb.get());
    // Keys too small or too large are legitimate JWKs kerberus will not use.
    if (bits < kMinRsaBits) return {nullptr, "RSA key of " + std::to_string(bits) + " bits (at least 2048)"};
    if (bits > kMaxRsaBits) return {nullptr, "RSA key of " + std::to_string(bits) + " bits (at most 16384)"};
    if (!BN_is_odd(nb.get())) fail(where + ".n", "even, not an RSA modulus");
    if (e.size() > kMaxRsaExponentBytes || !BN_is_odd(eb.get()) || BN_is_one(eb.get())) {
        fail(where + ".e", "not a valid RSA public exponent");
    }
    ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, nb.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, eb.get())) {
        throw std::bad_alloc();
    }
    return {from_params("RSA", bld.get(), where), {}};
}

Built ec_key(const Json& jwk, const std::string& where) {
    std::optional<std::string_view> crv = string_member(jwk, "crv", where);
    if (!crv) fail(where + ".crv", "missing");
    if (*crv != "P-256") return {nullptr, "crv " + shown(*crv)};
    std::string x = bytes_member(jwk, "x", where);
    std::string y = bytes_member(jwk, "y", where);
    // RFC 7518 6.2.1.2/3: each coordinate is the full size for the curve.
    for (const auto& [name, value] : {std::pair{"x", &x}, std::pair{"y", &y}}) {
        if (value->size() != kP256CoordinateBytes) {
            fail(where + "." + name, std::to_string(value->size()) + " bytes, P-256 needs 32");
        }
    }
    std::string point = "\x04" + x + y;  // SEC 1 2.3.3, uncompressed
    ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
        throw std::bad_alloc();
    }
    Pkey key = from_params("EC", bld.get(), where);
    // Decoding the point checks it lies on the curve; the public check says
    // so explicitly (and refuses the point at infinity), whatever the
    // provider's decoder does.
    PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check) throw std::bad_alloc();
    if (EVP_PKEY_public_check(check.get()) != 1) fail(where, "x, y is not a point on P-256");
    return {std::move(key), {}};
}

bool alg_fits(KeyType type, std::string_view alg) {
    static constexpr std::array<std::string_view, 6> kRsa{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
    if (type == KeyType::rsa) return std::find(kRsa.begin(), kRsa.end(), alg) != kRsa.end();
    return alg == "ES256";
}

// The reason to skip a key by its intended use (RFC 7517 4.2, 4.3), or "".
std::string use_problem(const Json& jwk, const std::string& where) {
    std::optional<std::string_view> use = string_member(jwk, "use", where);
    if (use && *use != "sig") return "use " + shown(*use);
    const Json* ops = member(jwk, "key_ops");
    if (!ops) return {};
    if (!ops->IsArray()) fail(where + ".key_ops", "not an array");
    for (const Json& op : ops->GetArray()) {
        if (!op.IsString()) fail(where + ".key_ops", "not an array of strings");
        if (text_of(op) == "verify") return {};
    }
    return "key_ops without \"verify\"";
}

// The key, or why it is skipped. A key not meant for signatures is skipped
// before its key material is read: that is none of our business.
Built build_key(const Json& jwk, std::string_view kty, std::optional<std::string_view> alg, const std::string& where) {
    if (std::string problem = use_problem(jwk, where); !problem.empty()) return {nullptr, std::move(problem)};
    if (kty != "RSA" && kty != "EC") return {nullptr, "kty " + shown(kty)};
    KeyType type = kty == "EC" ? KeyType::ec_p256 : KeyType::rsa;
    if (alg && !alg_fits(type, *alg)) return {nullptr, "alg " + shown(*alg) + " for kty " + shown(kty)};
    return type == KeyType::rsa ? rsa_key(jwk, where) : ec_key(jwk, where);
}

}  // namespace

KeySet KeySet::parse(std::string_view json) {
    rapidjson::Document doc;
    // Iterative: a provider's deeply nested document must not exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
    if (doc.HasParseError()) {
        throw std::runtime_error(std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
                                 " (at byte " + std::to_string(doc.GetErrorOffset()) + ")");
    }
    if (!doc.IsObject()) throw std::runtime_error("not a JSON object");
    const Json* keys = member(doc, "keys");
    if (!keys) throw std::runtime_error("keys: missing");
    if (!keys->IsArray()) throw std::runtime_error("keys: not an array");

    KeySet set;
    for (rapidjson::SizeType i = 0; i < keys->Size(); ++i) {
        const Json& jwk = (*keys)[i];
        std::string where = "keys[" + std::to_string(i) + "]";
        if (!jwk.IsObject()) fail(where, "not an object");
        std::optional<std::string_view> kty = string_member(jwk, "kty", where);
        if (!kty) fail(where + ".kty", "missing");
        std::optional<std::string_view> kid = string_member(jwk, "kid", where);
        std::optional<std::string_view> alg = string_member(jwk, "alg", where);

        KeyType type = *kty == "EC" ? KeyType::ec_p256 : KeyType::rsa;
        Built built = build_key(jwk, *kty, alg, where);
        if (std::string skip = std::move(built.skip); !skip.empty()) {
            set.skipped_reasons_.push_back(where + (kid ? " (kid " + shown(*kid) + ")" : "") + ": " + skip);
            set.skipped_why_.push_back(std::move(skip));
            continue;
        }
        set.keys_.push_back(Jwk{type, std::string(kid.value_or("")), std::string(alg.value_or("")),
                                std::move(built.key)});
    }
    return set;
}

std::string KeySet::summary() const {
    std::string out = std::to_string(keys_.size()) + (keys_.size() == 1 ? " key" : " keys");
    if (skipped_why_.empty()) return out;
    out += ", " + std::to_string(skipped_why_.size()) + " skipped (";
    for (std::size_t i = 0; i < skipped_why_.size(); ++i) out += (i ? "; " : "") + skipped_why_[i];
    return out + ")";
}

}  // namespace kerberus::auth
