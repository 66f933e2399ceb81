// Who may call plugin routes, Backstage's way
// (https://backstage.io/docs/auth/service-to-service-auth): every route needs
// a valid `Authorization: Bearer <token>` unless the plugin marked it public
// (KERBERUS_ROUTE_PUBLIC, Backstage's allow: 'unauthenticated'), the operator
// said otherwise in plugins.<id>.auth, or auth.dangerouslyDisableDefaultAuthPolicy
// is set. Tokens are auth.externalAccess entries: static tokens, legacy
// (HS256 with a shared secret) and jwks (JWTs checked against a fetched key
// set). One AccessControl per loaded configuration; immutable once built, so
// any number of workers use it without locks.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "auth/remote_key_set.h"
#include "config/config.h"

namespace kerberus::auth {

// How the caller of a request proved who it is.
enum class TokenType : uint8_t { none, static_token, legacy, jwks };
// "static", "legacy", "jwks" as auth.externalAccess names them; "none".
std::string_view token_type_name(TokenType type);

// The caller of one request, as the plugin reads it (request_caller).
struct Caller {
    TokenType type = TokenType::none;
    std::string subject;  // the entry's subject, or the JWT's sub after subjectPrefix

    void clear() {
        type = TokenType::none;
        subject.clear();  // keeps its capacity: workers reuse callers
    }
};

// What authenticate() found.
struct Verdict {
    enum class Kind : uint8_t {
        allowed,    // the caller is in Caller
        missing,    // no credentials: 401
        invalid,    // credentials that do not verify: 401
        forbidden,  // a valid token restricted to other plugins: 403
    };
    Kind kind = Kind::missing;
    std::string reason;  // for the error body; never holds the token
};

// One bearer token (admin.token), compared in constant time.
class BearerToken {
public:
    explicit BearerToken(std::string_view token);
    // Whether `authorization` (the field value; nullptr when absent) is
    // "Bearer <this token>".
    bool accepts(const std::string_view* authorization) const;

private:
    std::array<unsigned char, 32> digest_;
};

// Finds an entry's key set by URL (one per URL, kept across reloads).
using KeySetSource = std::function<std::shared_ptr<RemoteKeySet>(const std::string& url)>;

class AccessControl {
public:
    // Throws config::ConfigError at the entry for what only shows here (a
    // legacy secret that is not base64). `key_sets` is asked once per jwks
    // entry; null with jwks entries present is a programming error.
    AccessControl(const config::Config& config, const KeySetSource& key_sets);

    // Whether a route of `plugin` answers callers without credentials: the
    // operator's most specific plugins.<id>.auth.routes rule, else its
    // plugins.<id>.auth.allow, else the plugin's mark, else the default
    // policy (credentials needed unless dangerouslyDisableDefaultAuthPolicy).
    bool route_is_public(std::string_view plugin, std::string_view method, std::string_view pattern,
                         bool marked_public) const;
    // Whether a path of `plugin` that no route serves (404, 405) may say so
    // to callers without credentials: only when the plugin's routes are
    // open by default (plugins.<id>.auth.allow, or the default policy off).
    // Otherwise they get 401, so which routes exist is not shown to them.
    bool misses_are_public(std::string_view plugin) const;

    // Checks the request's Authorization field value (`authorization`,
    // nullptr when absent) for a call into `plugin`. Constant time in a
    // static token's content. Thread: any.
    Verdict authenticate(const std::string_view* authorization, std::string_view plugin, Caller& caller) const;

    // The jwks entries' key sets, to fetch before the first request.
    const std::vector<std::shared_ptr<RemoteKeySet>>& key_sets() const { return key_sets_; }

private:
    using Digest = std::array<unsigned char, 32>;
    struct StaticToken {
        Digest digest;
        std::string subject;
        std::size_t entry;
    };
    struct Legacy {
        std::string secret;  // decoded
        std::string subject;
        std::size_t entry;
    };
    struct Jwks {
        std::shared_ptr<RemoteKeySet> keys;
        JwtRules rules;
        std::string subject_prefix;
        std::size_t entry;
    };
    struct Entry {
        std::string key_path;  // auth.externalAccess[i]
        std::vector<std::string> plugins;  // empty: any
    };
    struct PluginRules {
        std::optional<bool> allow_unauthenticated;
        std::vector<config::RouteAccessRule> routes;
    };

    bool allowed_into(std::size_t entry, std::string_view plugin) const;
    Verdict accept(std::size_t entry, TokenType type, std::string_view plugin, Caller& caller) const;
    Verdict verify_jwt_token(std::string_view token, std::string_view plugin, Caller& caller) const;

    bool default_public_ = false;
    std::vector<Entry> entries_;
    std::vector<StaticToken> static_tokens_;
    std::vector<Legacy> legacy_;
    std::vector<Jwks> jwks_;
    std::vector<std::shared_ptr<RemoteKeySet>> key_sets_;
    std::map<std::string, PluginRules, std::less<>> plugin_rules_;
};

}  // namespace kerberus::auth
