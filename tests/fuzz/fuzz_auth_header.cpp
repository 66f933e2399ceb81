// fuzz_auth_header: route authentication as a request's Authorization field
// takes it (host/auth/access_control.cpp: Bearer parsing, static tokens by
// SHA-256 in constant time, legacy HS256 JWTs, jwks JWTs against a
// RemoteKeySet) and the operator's rules for public routes
// (AccessControl::route_is_public).
//
// One AccessControl, built once from a config::Config with:
//   auth.externalAccess[0]  static, kStaticAny, subject "ci"
//   auth.externalAccess[1]  static, kStaticA, subject "plugin-a-caller",
//                           accessRestrictions: plugin "a"
//   auth.externalAccess[2]  legacy, the base64 of kLegacySecret, subject
//                           "legacy-caller"
//   auth.externalAccess[3]  jwks, issuer https://idp.example, audience
//                           kerberus, subjectPrefix "jwks:"; its RemoteKeySet
//                           holds kKeySet (RSA kid "auth-rsa", EC P-256 kid
//                           "auth-ec"), handed over with fetched(); the
//                           fetcher does nothing but count its calls
//   plugins.p.auth          allow: unauthenticated, and routes rules
//   plugins.q.auth          routes rules only
// The private keys that signed the seeds were thrown away.
//
// Input: a first byte, then the rest. The first byte's value mod 3 picks
// the plugin called ("a", "b", "p"); (value / 3) mod 4 the mode:
//   0  the rest is the Authorization field value;
//   1  the same, after a call without the field (nullptr);
//   2  a header JSON, a newline, a claims JSON: made into a JWT with a
//      correct HS256 MAC under the legacy secret and sent as
//      "Bearer <token>" (the fuzzer cannot forge a signature, so this is
//      how the claims reach the legacy path);
//   3  "METHOD PATTERN" (split at the first space) for route_is_public,
//      for plugin "a", "b", "p" or "q" by (value / 12) mod 4, once marked
//      public and once not.
// Findings, besides any sanitizer report and any exception:
//   - a verdict other than missing without the field, other than invalid
//     for a field that is not "Bearer" (any case), spaces, a token, or for
//     a token over kMaxTokenBytes;
//   - `allowed` for a token that is neither exactly a static token (once
//     "Bearer", its spaces and any trailing spaces and tabs are taken
//     off) nor JWT-shaped (two dots); a static token not allowed (the
//     restricted one: for plugin "a") with its type and subject; a JWT
//     allowed as legacy or jwks that verify_legacy_jwt or verify_jwt does
//     not accept on its own, or with another subject; a JWT one of them
//     accepts not allowed;
//   - `forbidden` for anything but the restricted static token into a
//     plugin other than "a";
//   - a caller not cleared (type none, empty subject) on any verdict but
//     allowed (the caller comes in holding a previous request's);
//   - a reason holding the token when it is longer than 16 bytes (it
//     must not echo secrets; the fixed phrases aside, which a token may
//     be a piece of), empty, over 400 bytes, or with a byte that
//     is not printable ASCII (it goes to the log and the 401 body);
//   - the key set's fetcher called more than once (a fetch never ends here);
//   - route_is_public differing from a model of the rules written from
//     their documentation (the most specific covering rule: longest path by
//     segments, then a named method; a rule naming a method applies to a
//     "*" route only when it asks for authentication; else plugins.<id>.auth
//     .allow; else the mark; the default policy is on), or a "*" route
//     public while the same pattern with some method is not.
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../support/jwt_signing.h"
#include "auth/access_control.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/remote_key_set.h"
#include "config/config.h"
#include "finding.h"

using kerberus::test::jwt::b64url;

namespace {

using namespace kerberus::auth;
using kerberus::config::Config;
using kerberus::config::ExternalAccess;
using kerberus::config::PluginSettings;
using kerberus::config::RouteAccessRule;
using kerberus::fuzz::finding;
namespace fz = kerberus::fuzz;  // fz::quoted: unqualified, quoted(std::string) would find std::quoted
using Kind = Verdict::Kind;

constexpr std::string_view kStaticAny = "static-token-for-every-plugin-0001";
constexpr std::string_view kStaticA = "static-token-for-plugin-a-only-002";
constexpr std::string_view kLegacySecret = "kerberus auth fuzz legacy secret";
constexpr std::string_view kLegacySecretBase64 = "a2VyYmVydXMgYXV0aCBmdXp6IGxlZ2FjeSBzZWNyZXQ=";
constexpr std::string_view kKeySetUrl = "https://idp.example/.well-known/jwks.json";

constexpr std::string_view kKeySet =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"auth-rsa\",\"use\":\"sig\",\"n\":\"tuYJm0JHYvmm3vU6_IjlUeiBfZrsiuQ-RW10NAurFp_"
    "rugnk2avPE1gbKnds_foKlJKMCZf7Zbk7yqC2VgLmqH5ZDAgug93vax5x8yOr9FID36uY1gRdnzBXVW2Y4rmoIGZIq10b9l7r2xeMeqUC2eck"
    "ypqyEMCIuLX0v_xlhc56H434lrcuTK1RgRlj26bZPc_9muRPqSO45nNsIXgPWyii7z8TwIgS-MhMpHwy2q3bbOD03nWC-qad14F_ZYe8ZbOii"
    "Y1Y-3Ycgbug87GRk_7eSdzMFo7YX6JMEOZXdGKrXZgFTSFqwfloJuSBMdxHSj0X9RR3vyKt7EMLF0mJxw\",\"e\":\"AQAB\"},{\"kty\":\"EC"
    "\",\"kid\":\"auth-ec\",\"crv\":\"P-256\",\"x\":\"PiX8gyGFtuwMjkJJsz8bMJTrlIueoAH7ZkKXoFDVOFY\",\"y\":\"l2-KGyk8xjTOe"
    "gPoaQkVPHYk7jcpQz9zP9bvvPkkF8M\"}]}";

// The reasons access_control.cpp gives word for word, whatever the token.
constexpr std::string_view kFixedReasons[] = {
    "the Authorization field is not of the form: Bearer <token>",
    "invalid token: token too long",
    "invalid token: no auth.externalAccess entry accepts it",
};

const char* const kPlugins[] = {"a", "b", "p"};
const char* const kRoutePlugins[] = {"a", "b", "p", "q"};
const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

class CountingFetcher : public KeySetFetcher {
public:
    void fetch(std::shared_ptr<RemoteKeySet>) override { ++calls; }
    std::size_t calls = 0;
};

RouteAccessRule rule(std::string method, std::string path, bool unauthenticated) {
    RouteAccessRule r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.unauthenticated = unauthenticated;
    return r;
}

struct World {
    CountingFetcher fetcher;
    std::shared_ptr<RemoteKeySet> remote;
    std::shared_ptr<const KeySet> keys;
    JwtRules jwks_rules;
    Config config;
    std::optional<AccessControl> access;

    World() {
        keys = std::make_shared<const KeySet>(KeySet::parse(kKeySet));
        if (keys->size() != 2) finding("the target's key set does not parse to two keys", keys->summary());
        remote = std::make_shared<RemoteKeySet>(std::string(kKeySetUrl), fetcher);
        remote->fetched(keys);
        jwks_rules.issuers = {"https://idp.example"};
        jwks_rules.audiences = {"kerberus"};

        auto entry = [&](ExternalAccess::Type type) -> ExternalAccess& {
            ExternalAccess& e = config.auth.external_access.emplace_back();
            e.type = type;
            e.key_path = "auth.externalAccess[" + std::to_string(config.auth.external_access.size() - 1) + "]";
            return e;
        };
        ExternalAccess& any = entry(ExternalAccess::Type::static_token);
        any.token = kStaticAny;
        any.subject = "ci";
        ExternalAccess& only_a = entry(ExternalAccess::Type::static_token);
        only_a.token = kStaticA;
        only_a.subject = "plugin-a-caller";
        only_a.plugins = {"a"};
        ExternalAccess& legacy = entry(ExternalAccess::Type::legacy);
        legacy.secret = kLegacySecretBase64;
        legacy.subject = "legacy-caller";
        ExternalAccess& jwks = entry(ExternalAccess::Type::jwks);
        jwks.url = kKeySetUrl;
        jwks.issuers = jwks_rules.issuers;
        jwks.audiences = jwks_rules.audiences;
        jwks.subject_prefix = "jwks:";

        PluginSettings& p = config.plugins["p"];
        p.id = "p";
        p.allow_unauthenticated = true;
        p.route_access = {rule("GET", "/admin", false), rule("", "/admin/health", true), rule("", "/private", false),
                          rule("POST", "/private/hooks", true), rule("DELETE", "/", false)};
        PluginSettings& q = config.plugins["q"];
        q.id = "q";
        q.route_access = {rule("", "/status", true), rule("GET", "/status/secret", false), rule("PUT", "/status", false)};
        config.plugins["a"].id = "a";  // no auth rules

        access.emplace(config, [this](const std::string& url) {
            if (url != kKeySetUrl) finding("a key set asked for another URL", fz::quoted(url));
            return remote;
        });
        if (access->key_sets().size() != 1 || access->key_sets()[0] != remote) {
            finding("AccessControl does not list the one key set", "");
        }
    }
};

World& world() {
    static World w;
    return w;
}

// RFC 6750 2.1 read independently of access_control.cpp: "Bearer" in any
// case (RFC 9110 11.1), one or more spaces, the token; trailing spaces and
// tabs are not part of it. nullopt when the field is not of that form.
std::optional<std::string_view> expected_token(std::string_view field) {
    constexpr std::string_view kScheme = "bearer";
    if (field.size() < kScheme.size() + 1) return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(field[i])) != kScheme[i]) return std::nullopt;
    }
    std::size_t start = kScheme.size();
    if (field[start] != ' ') return std::nullopt;
    while (start < field.size() && field[start] == ' ') ++start;
    std::size_t end = field.size();
    while (end > start && (field[end - 1] == ' ' || field[end - 1] == '\t')) --end;
    if (end == start) return std::nullopt;
    return field.substr(start, end - start);
}

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::allowed: return "allowed";
        case Kind::missing: return "missing";
        case Kind::invalid: return "invalid";
        case Kind::forbidden: return "forbidden";
    }
    return "?";
}

std::string describe(const Verdict& v, const Caller& c, std::string_view plugin, const std::string_view* field) {
    std::string out = "verdict " + std::string(kind_name(v.kind)) + ", reason " + fz::quoted(v.reason, 400) + ", caller " +
                      std::string(token_type_name(c.type)) + " " + fz::quoted(c.subject) + ", plugin " +
                      std::string(plugin) + ", field ";
    out += field == nullptr ? "absent" : fz::quoted(*field, 300);
    return out;
}

// Whether verify_* accepts `token` on its own, and with which subject.
// Asked before and after authenticate() (time moves on between them): an
// outcome authenticate() had at its own instant is one of the two unless a
// claim changes its mind within that very instant.
struct Standalone {
    bool legacy = false;
    std::optional<std::string> jwks_subject;
};

Standalone standalone(std::string_view token) {
    World& w = world();
    const auto now = std::chrono::system_clock::now();
    Standalone s;
    s.legacy = verify_legacy_jwt(token, kLegacySecret, now).token.has_value();
    JwtResult r = verify_jwt(token, *w.keys, w.jwks_rules, now);
    if (r.token) s.jwks_subject = r.token->subject;
    return s;
}

void check_verdict(const Verdict& v, const Caller& c, std::string_view plugin, const std::string_view* field,
                   const Standalone* before, const Standalone* after) {
    auto fail = [&](const char* what) { finding(what, describe(v, c, plugin, field)); };

    if (v.kind != Kind::allowed && (c.type != TokenType::none || !c.subject.empty())) {
        fail("a caller not cleared on a verdict other than allowed");
    }
    if (v.kind != Kind::allowed && v.reason.empty()) fail("a refusal without a reason");
    if (v.reason.size() > 400) fail("a reason over 400 bytes");
    for (char ch : v.reason) {
        if (ch < 0x20 || ch > 0x7e) fail("a reason with a byte that is not printable ASCII");
    }

    if (field == nullptr) {
        if (v.kind != Kind::missing) fail("no field, and a verdict other than missing");
        return;
    }
    const std::optional<std::string_view> token = expected_token(*field);
    if (!token) {
        if (v.kind != Kind::invalid) fail("a field not of the form Bearer <token>, and a verdict other than invalid");
        return;
    }
    // A token may be a piece of a fixed phrase (the fuzzer learns them from
    // comparisons): only a reason that takes bytes of the request can echo.
    const bool fixed_reason = std::find(std::begin(kFixedReasons), std::end(kFixedReasons), v.reason) !=
                              std::end(kFixedReasons);
    if (token->size() > 16 && !fixed_reason && v.reason.find(*token) != std::string::npos) {
        fail("a reason that echoes the token");
    }
    if (token->size() > kMaxTokenBytes) {
        if (v.kind != Kind::invalid) fail("a token over kMaxTokenBytes, and a verdict other than invalid");
        return;
    }

    if (*token == kStaticAny) {
        if (v.kind != Kind::allowed || c.type != TokenType::static_token || c.subject != "ci") {
            fail("the unrestricted static token not allowed as static caller \"ci\"");
        }
        return;
    }
    if (*token == kStaticA) {
        if (plugin == "a") {
            if (v.kind != Kind::allowed || c.type != TokenType::static_token || c.subject != "plugin-a-caller") {
                fail("the static token restricted to plugin a not allowed into a");
            }
        } else if (v.kind != Kind::forbidden) {
            fail("the static token restricted to plugin a not forbidden elsewhere");
        }
        return;
    }
    if (v.kind == Kind::forbidden) fail("forbidden, for a token other than the restricted static one");
    if (v.kind == Kind::missing) fail("a field with a token, and the verdict missing");

    const bool jwt_shaped = std::count(token->begin(), token->end(), '.') == 2;
    if (!jwt_shaped) {
        if (v.kind != Kind::invalid) fail("allowed, for a token neither static nor JWT-shaped");
        return;
    }
    if (before == nullptr || after == nullptr) return;
    const bool legacy_ok = before->legacy || after->legacy;
    const bool jwks_ok = before->jwks_subject || after->jwks_subject;
    if (v.kind == Kind::allowed) {
        if (c.type == TokenType::legacy) {
            if (!legacy_ok) fail("allowed as legacy, and verify_legacy_jwt refuses the token");
            if (c.subject != "legacy-caller") fail("allowed as legacy with another subject than the entry's");
        } else if (c.type == TokenType::jwks) {
            if (!jwks_ok) fail("allowed as jwks, and verify_jwt refuses the token");
            const std::string& sub = before->jwks_subject ? *before->jwks_subject : *after->jwks_subject;
            if (c.subject != "jwks:" + sub) fail("allowed as jwks with another subject than jwks: and sub");
        } else {
            fail("a JWT-shaped token allowed as neither legacy nor jwks");
        }
    } else if ((before->legacy && after->legacy) || (before->jwks_subject && after->jwks_subject)) {
        fail("a JWT that verifies on its own, refused");
    }
}

void authenticate_field(const std::string_view* field, std::string_view plugin) {
    World& w = world();
    // A worker's caller comes in holding the previous request's.
    static Caller caller;
    caller.type = TokenType::jwks;
    caller.subject = "stale-subject-of-the-previous-request";

    std::optional<std::string_view> token = field ? expected_token(*field) : std::nullopt;
    const bool verify = token && token->size() <= kMaxTokenBytes && std::count(token->begin(), token->end(), '.') == 2;
    std::optional<Standalone> before, after;
    if (verify) before = standalone(*token);
    Verdict v = w.access->authenticate(field, plugin, caller);
    if (verify) after = standalone(*token);
    check_verdict(v, caller, plugin, field, before ? &*before : nullptr, after ? &*after : nullptr);
    if (w.fetcher.calls > 1) finding("the key set's fetcher called again while its fetch runs", std::to_string(w.fetcher.calls));
}


std::string hs256(std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kLegacySecret.data(), kLegacySecret.size(),
                   reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac, &length)) {
        finding("HMAC failed", "");
    }
    return std::string(reinterpret_cast<const char*>(mac), length);
}

void fuzz_signed_legacy(std::string_view input, std::string_view plugin) {
    const std::size_t newline = input.find('\n');
    if (newline == std::string_view::npos) return;
    std::string signing_input = b64url(input.substr(0, newline)) + "." + b64url(input.substr(newline + 1));
    std::string field = "Bearer " + signing_input + "." + b64url(hs256(signing_input));
    const std::string_view view(field);
    authenticate_field(&view, plugin);
}

// The rules as their documentation states them (config.h RouteAccessRule,
// access_control.h route_is_public, docs), written without fit().
bool covers(std::string_view rule_path, std::string_view pattern) {
    if (rule_path == "/") return true;
    auto segments = [](std::string_view s) {
        std::vector<std::string_view> out;
        std::size_t start = 0;
        for (;;) {
            std::size_t slash = s.find('/', start);
            out.push_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
            if (slash == std::string_view::npos) return out;
            start = slash + 1;
        }
    };
    const std::vector<std::string_view> rule = segments(rule_path);
    const std::vector<std::string_view> route = segments(pattern);
    return rule.size() <= route.size() && std::equal(rule.begin(), rule.end(), route.begin());
}

bool model_is_public(const Config& config, std::string_view plugin, std::string_view method, std::string_view pattern,
                     bool marked) {
    auto found = config.plugins.find(std::string(plugin));
    if (found == config.plugins.end()) return marked;
    const PluginSettings& settings = found->second;
    const RouteAccessRule* best = nullptr;
    auto depth = [](const RouteAccessRule& r) {
        return r.path == "/" ? 0 : static_cast<long>(std::count(r.path.begin(), r.path.end(), '/'));
    };
    for (const RouteAccessRule& r : settings.route_access) {
        if (!covers(r.path, pattern)) continue;
        const bool applies = r.method.empty() || r.method == method || (method == "*" && !r.unauthenticated);
        if (!applies) continue;
        if (best == nullptr || depth(r) > depth(*best) ||
            (depth(r) == depth(*best) && !r.method.empty() && best->method.empty())) {
            best = &r;
        }
    }
    if (best != nullptr) return best->unauthenticated;
    if (settings.allow_unauthenticated) return *settings.allow_unauthenticated;
    return marked;
}

void fuzz_route(std::string_view input, std::string_view plugin) {
    World& w = world();
    const std::size_t space = input.find(' ');
    const std::string_view method = input.substr(0, space);
    const std::string_view pattern = space == std::string_view::npos ? std::string_view() : input.substr(space + 1);
    for (bool marked : {false, true}) {
        const bool got = w.access->route_is_public(plugin, method, pattern, marked);
        if (got != model_is_public(w.config, plugin, method, pattern, marked)) {
            finding("route_is_public differs from the rules' model",
                    "plugin " + std::string(plugin) + ", method " + fz::quoted(method) + ", pattern " + fz::quoted(pattern) +
                        ", marked " + (marked ? "public" : "not public") + ": got " + (got ? "public" : "not public"));
        }
        if (got && method == "*") {
            std::vector<std::string_view> methods(std::begin(kMethods), std::end(kMethods));
            auto rules = w.config.plugins.find(std::string(plugin));
            if (rules != w.config.plugins.end()) {
                for (const RouteAccessRule& r : rules->second.route_access) methods.push_back(r.method);
            }
            for (std::string_view m : methods) {
                if (!m.empty() && !w.access->route_is_public(plugin, m, pattern, marked)) {
                    finding("a \"*\" route public while one of its methods is not",
                            "plugin " + std::string(plugin) + ", pattern " + fz::quoted(pattern) + ", method " +
                                std::string(m) + ", marked " + (marked ? "public" : "not public"));
                }
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    world();
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string_view plugin = kPlugins[data[0] % 3];
    switch ((data[0] / 3) % 4) {
        case 1: authenticate_field(nullptr, plugin); [[fallthrough]];
        case 0: authenticate_field(&rest, plugin); break;
        case 2: fuzz_signed_legacy(rest, plugin); break;
        default: fuzz_route(rest, kRoutePlugins[(data[0] / 12) % 4]); break;
    }
    return 0;
}
