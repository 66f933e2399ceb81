#include "auth/access_control.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace kerberus::auth {
namespace {

constexpr std::string_view kMissing = "authentication required: send Authorization: Bearer <token>";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// RFC 6750 2.1: "Bearer" (any case, RFC 9110 11.1), one or more spaces, the
// token. Empty when the field is not of that form.
std::string_view bearer_token(std::string_view field) {
    constexpr std::string_view kScheme = "bearer";
    if (field.size() <= kScheme.size() || !iequals(field.substr(0, kScheme.size()), kScheme)) return {};
    std::string_view rest = field.substr(kScheme.size());
    if (rest.front() != ' ') return {};
    rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
    return rest;
}

// Every request with a token on a route that needs one hashes it: the
// algorithm is fetched from OpenSSL's providers once (EVP_sha256() would
// look it up on each call) and each thread keeps its digest context.
std::array<unsigned char, 32> sha256(std::string_view text) {
    static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    struct ContextFree {
        void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
    };
    thread_local std::unique_ptr<EVP_MD_CTX, ContextFree> context(EVP_MD_CTX_new());
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    if (algorithm == nullptr || !context || EVP_DigestInit_ex2(context.get(), algorithm, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest.data(), &size) != 1 || size != digest.size()) {
        throw std::runtime_error("SHA-256 is not available");
    }
    return digest;
}

bool is_jwt_shaped(std::string_view token) { return std::count(token.begin(), token.end(), '.') == 2; }

// How well a route rule fits a route: -1 when it does not; else longer
// paths, then a named method, fit better.
int fit(const config::RouteAccessRule& rule, std::string_view method, std::string_view pattern) {
    const std::string_view path = rule.path;
    const bool prefix = path == "/" || pattern == path ||
                        (pattern.size() > path.size() && pattern.substr(0, path.size()) == path &&
                         pattern[path.size()] == '/');
    if (!prefix) return -1;
    if (!rule.method.empty() && rule.method != method) {
        // A "*" route serves every method: a rule naming one may only make
        // it stricter, never open it to all.
        if (!(method == "*" && !rule.unauthenticated)) return -1;
    }
    return static_cast<int>(path.size()) * 2 + (rule.method.empty() ? 0 : 1);
}

}  // namespace

BearerToken::BearerToken(std::string_view token) : digest_(sha256(token)) {}

bool BearerToken::accepts(const std::string_view* authorization) const {
    if (authorization == nullptr) return false;
    const std::string_view token = bearer_token(*authorization);
    if (token.empty() || token.size() > kMaxTokenBytes) return false;
    const std::array<unsigned char, 32> digest = sha256(token);
    return CRYPTO_memcmp(digest.data(), digest_.data(), digest.size()) == 0;
}

std::string_view token_type_name(TokenType type) {
    switch (type) {
        case TokenType::static_token: return "static";
        case TokenType::legacy: return "legacy";
        case TokenType::jwks: return "jwks";
        case TokenType::none: break;
    }
    return "none";
}

AccessControl::AccessControl(const config::Config& config, const KeySetSource& key_sets)
    : default_public_(config.auth.disable_default_policy) {
    using Type = config::ExternalAccess::Type;
    for (const config::ExternalAccess& access : config.auth.external_access) {
        const std::size_t entry = entries_.size();
        entries_.push_back(Entry{access.key_path, access.plugins});
        switch (access.type) {
            case Type::static_token:
                static_tokens_.push_back(StaticToken{sha256(access.token), access.subject, entry});
                break;
            case Type::legacy: {
                std::optional<std::string> secret = base64_decode(access.secret);
                if (!secret || secret->empty()) {
                    throw config::ConfigError(access.where, access.key_path + ".options.secret",
                                              "expected the shared secret in base64 (as Backstage writes it, "
                                              "e.g. the output of: openssl rand -base64 24)");
                }
                legacy_.push_back(Legacy{std::move(*secret), access.subject, entry});
                break;
            }
            case Type::jwks: {
                JwtRules rules;
                rules.issuers = access.issuers;
                rules.audiences = access.audiences;
                rules.algorithms = access.algorithms;
                std::shared_ptr<RemoteKeySet> keys = key_sets(access.url);
                if (std::find(key_sets_.begin(), key_sets_.end(), keys) == key_sets_.end()) key_sets_.push_back(keys);
                jwks_.push_back(Jwks{std::move(keys), std::move(rules), access.subject_prefix, entry});
                break;
            }
        }
    }
    for (const auto& [id, plugin] : config.plugins) {
        if (plugin.allow_unauthenticated || !plugin.route_access.empty()) {
            plugin_rules_.emplace(id, PluginRules{plugin.allow_unauthenticated, plugin.route_access});
        }
    }
}

bool AccessControl::route_is_public(std::string_view plugin, std::string_view method, std::string_view pattern,
                                    bool marked_public) const {
    auto found = plugin_rules_.find(plugin);
    if (found != plugin_rules_.end()) {
        const PluginRules& rules = found->second;
        const config::RouteAccessRule* best = nullptr;
        int best_fit = -1;
        for (const config::RouteAccessRule& rule : rules.routes) {
            int f = fit(rule, method, pattern);
            if (f > best_fit) {
                best_fit = f;
                best = &rule;
            }
        }
        if (best != nullptr) return best->unauthenticated;
        if (rules.allow_unauthenticated) return *rules.allow_unauthenticated;
    }
    return marked_public || default_public_;
}

bool AccessControl::misses_are_public(std::string_view plugin) const {
    auto found = plugin_rules_.find(plugin);
    if (found != plugin_rules_.end() && found->second.allow_unauthenticated) return *found->second.allow_unauthenticated;
    return default_public_;
}

bool AccessControl::allowed_into(std::size_t entry, std::string_view plugin) const {
    const std::vector<std::string>& plugins = entries_[entry].plugins;
    return plugins.empty() || std::find(plugins.begin(), plugins.end(), plugin) != plugins.end();
}

Verdict AccessControl::accept(std::size_t entry, TokenType type, std::string_view plugin, Caller& caller) const {
    caller.type = type;
    if (allowed_into(entry, plugin)) return Verdict{Verdict::Kind::allowed, {}};
    Verdict refused{Verdict::Kind::forbidden, "the token of \"" + caller.subject + "\" may not call plugin \"" +
                                                  std::string(plugin) + "\" (" + entries_[entry].key_path +
                                                  ".accessRestrictions)"};
    caller.clear();
    return refused;
}

Verdict AccessControl::authenticate(const std::string_view* authorization, std::string_view plugin,
                                    Caller& caller) const {
    caller.clear();
    if (authorization == nullptr) return Verdict{Verdict::Kind::missing, std::string(kMissing)};
    const std::string_view token = bearer_token(*authorization);
    if (token.empty()) {
        return Verdict{Verdict::Kind::invalid, "the Authorization field is not of the form: Bearer <token>"};
    }
    if (token.size() > kMaxTokenBytes) return Verdict{Verdict::Kind::invalid, "invalid token: token too long"};
    if (!static_tokens_.empty()) {
        // Every configured token is compared, each in constant time, so the
        // time taken tells nothing about which one came close.
        const Digest digest = sha256(token);
        const StaticToken* match = nullptr;
        for (const StaticToken& known : static_tokens_) {
            if (CRYPTO_memcmp(known.digest.data(), digest.data(), digest.size()) == 0) match = &known;
        }
        if (match != nullptr) {
            caller.subject = match->subject;
            return accept(match->entry, TokenType::static_token, plugin, caller);
        }
    }
    if (is_jwt_shaped(token) && (!legacy_.empty() || !jwks_.empty())) return verify_jwt_token(token, plugin, caller);
    return Verdict{Verdict::Kind::invalid, "invalid token: no auth.externalAccess entry accepts it"};
}

Verdict AccessControl::verify_jwt_token(std::string_view token, std::string_view plugin, Caller& caller) const {
    const auto now = std::chrono::system_clock::now();
    // The reason of the entry the token was most likely meant for: a failure
    // past the signature (expired, wrong audience) says most; a kid no key
    // has names the key set it was meant for; an algorithm or signature
    // that does not fit says least — the token may be another entry's.
    std::string reason;
    int reason_rank = -1;
    auto note = [&](const JwtResult& result) {
        const bool mismatch = result.error == "signature does not verify" || result.error.rfind("algorithm ", 0) == 0;
        const int rank = result.unknown_key ? 1 : mismatch ? 0 : 2;
        if (rank > reason_rank) {
            reason = result.error;
            reason_rank = rank;
        }
    };
    for (const Legacy& entry : legacy_) {
        JwtResult result = verify_legacy_jwt(token, entry.secret, now);
        if (result.token) {
            caller.subject = entry.subject;
            return accept(entry.entry, TokenType::legacy, plugin, caller);
        }
        note(result);
    }
    for (const Jwks& entry : jwks_) {
        entry.keys->refresh(/*stale_only=*/true);
        std::shared_ptr<const KeySet> keys = entry.keys->keys();
        if (!keys) {
            JwtResult pending;
            pending.error = "the key set of " + entries_[entry.entry].key_path + " (" + entry.keys->url() +
                            ") has not been fetched yet";
            note(pending);
            continue;
        }
        JwtResult result = verify_jwt(token, *keys, entry.rules, now);
        if (result.token) {
            caller.subject = entry.subject_prefix + result.token->subject;
            return accept(entry.entry, TokenType::jwks, plugin, caller);
        }
        if (result.unknown_key) entry.keys->refresh();
        note(result);
    }
    return Verdict{Verdict::Kind::invalid, "invalid token: " + reason};
}

}  // namespace kerberus::auth
