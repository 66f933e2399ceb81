#include "config/auth_settings.h"

#include <arpa/inet.h>

#include <algorithm>

#include "config/field_reader.h"
#include "config/setting_syntax.h"

namespace kerberus::config::detail {
namespace {

// Backstage's own floor for static tokens (a shorter one is guessable).
constexpr std::size_t kMinTokenLength = 8;

bool has_space(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

// A token is secret: errors say what is wrong with it, never what it is.
void read_token(const Field& field, std::string& out) {
    static const std::string kExpected = "a token of at least 8 characters without whitespace";
    read_string(field, out, kExpected);
    if (out.size() < kMinTokenLength || has_space(out)) {
        out.clear();
        fail(field.value, field.path, "expected " + kExpected + (field.value.source.empty() ? "" : " (from " + field.value.source + ")"));
    }
}

std::vector<std::string> read_restrictions(const Field& field) {
    std::vector<std::string> plugins;
    if (field.value.kind == Value::Kind::null) return plugins;
    if (field.value.kind != Value::Kind::sequence) fail_expected(field.value, field.path, "a list of { plugin: <id> }");
    for (std::size_t i = 0; i < field.value.items.size(); ++i) {
        const Value& item = field.value.items[i];
        const std::string path = element_path(field.path, i);
        // Permission restrictions would need Backstage's permission
        // framework; ignoring them would widen what the token may do.
        for (const Entry& entry : entries_of(item, path, "a map such as { plugin: catalog }")) {
            if (entry.key == "permission" || entry.key == "permissionAttribute") {
                throw ConfigError(entry.key_where, child_path(path, entry.key),
                                  "kerberus restricts tokens by plugin only; remove this key, or give the token a "
                                  "subject of its own and check it in the plugin (request_caller)");
            }
        }
        reject_unknown_keys(item, path, {"plugin"});
        std::string plugin;
        for_each_field(item, path, [&](const std::string&, const Field& f) {
            read_string(f, plugin, "a plugin id");
            if (!is_plugin_id(plugin)) fail_expected(f.value, f.path, "a plugin id ([a-z0-9][a-z0-9-]*)");
        });
        if (plugin.empty()) fail(item, path, "expected { plugin: <id> }");
        plugins.push_back(std::move(plugin));
    }
    return plugins;
}

void read_static_options(const Field& field, ExternalAccess& access) {
    reject_unknown_keys(field.value, field.path, {"token", "subject"});
    for_each_field(field.value, field.path, [&](const std::string& key, const Field& f) {
        if (key == "token") read_token(f, access.token);
        if (key == "subject") read_string(f, access.subject, "a subject naming the caller, such as ci-bot");
    });
    if (access.token.empty()) fail(field.value, field.path + ".token", "missing: a static entry needs options.token");
    if (access.subject.empty()) fail(field.value, field.path + ".subject", "missing: a static entry needs options.subject");
}

void read_legacy_options(const Field& field, ExternalAccess& access) {
    reject_unknown_keys(field.value, field.path, {"secret", "subject"});
    for_each_field(field.value, field.path, [&](const std::string& key, const Field& f) {
        if (key == "secret") read_token(f, access.secret);
        if (key == "subject") read_string(f, access.subject, "a subject naming the caller, such as backstage-server");
    });
    if (access.secret.empty()) fail(field.value, field.path + ".secret", "missing: a legacy entry needs options.secret");
    if (access.subject.empty()) fail(field.value, field.path + ".subject", "missing: a legacy entry needs options.subject");
}

void read_jwks_options(const Field& field, ExternalAccess& access) {
    reject_unknown_keys(field.value, field.path, {"url", "issuer", "audience", "algorithm", "subjectPrefix"});
    static const std::vector<std::string> kAlgorithms = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256"};
    for_each_field(field.value, field.path, [&](const std::string& key, const Field& f) {
        if (key == "url") {
            read_string(f, access.url, "an http:// or https:// URL of a JSON Web Key Set");
            if (access.url.rfind("http://", 0) != 0 && access.url.rfind("https://", 0) != 0) {
                fail_expected(f.value, f.path, "an http:// or https:// URL of a JSON Web Key Set");
            }
        }
        if (key == "issuer") access.issuers = read_string_or_list(f, "an issuer (the tokens' iss)");
        if (key == "audience") access.audiences = read_string_or_list(f, "an audience (the tokens' aud)");
        if (key == "subjectPrefix") read_string(f, access.subject_prefix, "a prefix for the tokens' sub");
        if (key == "algorithm") {
            std::string list;
            for (const std::string& a : kAlgorithms) list += (list.empty() ? "" : ", ") + a;
            access.algorithms = read_string_or_list(f, "a signing algorithm (" + list + ")");
            for (const std::string& a : access.algorithms) {
                if (std::find(kAlgorithms.begin(), kAlgorithms.end(), a) == kAlgorithms.end()) {
                    fail(f.value, f.path, "unsupported algorithm \"" + a + "\" (supported: " + list + ")");
                }
            }
        }
    });
    if (access.url.empty()) fail(field.value, field.path + ".url", "missing: a jwks entry needs options.url");
}

ExternalAccess read_external_access(const Value& item, const std::string& path) {
    ExternalAccess access;
    access.where = item.where;
    access.key_path = path;
    reject_unknown_keys(item, path, {"type", "options", "accessRestrictions"});
    const Entry* type = item.find("type");
    static const std::string kTypes = "static, legacy or jwks";
    if (type == nullptr) fail(item, path + ".type", "missing: expected " + kTypes);
    const std::string* text = text_of(type->value, path + ".type", kTypes);
    if (text == nullptr) fail_expected(type->value, path + ".type", kTypes);
    if (*text == "static") access.type = ExternalAccess::Type::static_token;
    else if (*text == "legacy") access.type = ExternalAccess::Type::legacy;
    else if (*text == "jwks") access.type = ExternalAccess::Type::jwks;
    else fail_expected(type->value, path + ".type", kTypes);
    const Entry* options = item.find("options");
    if (options == nullptr) fail(item, path + ".options", "missing: every externalAccess entry needs options");
    const Field options_field{options->value, path + ".options"};
    switch (access.type) {
        case ExternalAccess::Type::static_token: read_static_options(options_field, access); break;
        case ExternalAccess::Type::legacy: read_legacy_options(options_field, access); break;
        case ExternalAccess::Type::jwks: read_jwks_options(options_field, access); break;
    }
    if (const Entry* restrictions = item.find("accessRestrictions")) {
        access.plugins = read_restrictions(Field{restrictions->value, path + ".accessRestrictions"});
    }
    return access;
}

bool read_allow(const Field& field) {
    static const std::string kExpected = "unauthenticated or authenticated";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (text == nullptr || (*text != "unauthenticated" && *text != "authenticated")) {
        fail_expected(field.value, field.path, kExpected);
    }
    return *text == "unauthenticated";
}

RouteAccessRule read_route_rule(const Value& item, const std::string& path) {
    RouteAccessRule rule;
    rule.where = item.where;
    reject_unknown_keys(item, path, {"path", "method", "allow"});
    bool allow_given = false;
    for_each_field(item, path, [&](const std::string& key, const Field& f) {
        if (key == "path") {
            read_string(f, rule.path, "a route pattern or a prefix of one, starting with /");
            if (rule.path.front() != '/') fail_expected(f.value, f.path, "a route pattern or a prefix of one, starting with /");
            if (rule.path.size() > 1 && rule.path.back() == '/') rule.path.pop_back();
        }
        if (key == "method") {
            read_string(f, rule.method, "an HTTP method such as GET");
            std::transform(rule.method.begin(), rule.method.end(), rule.method.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        }
        if (key == "allow") {
            rule.unauthenticated = read_allow(f);
            allow_given = true;
        }
    });
    if (rule.path.empty()) fail(item, path + ".path", "missing: which routes the rule is for");
    if (!allow_given) fail(item, path + ".allow", "missing: expected unauthenticated or authenticated");
    return rule;
}

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace

AuthSettings read_auth(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"dangerouslyDisableDefaultAuthPolicy", "externalAccess"});
    AuthSettings auth;
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "dangerouslyDisableDefaultAuthPolicy") read_bool(field, auth.disable_default_policy);
        if (key != "externalAccess" || field.value.kind == Value::Kind::null) return;
        if (field.value.kind != Value::Kind::sequence) {
            fail_expected(field.value, field.path, "a list of entries such as { type: static, options: { token, subject } }");
        }
        for (std::size_t i = 0; i < field.value.items.size(); ++i) {
            auth.external_access.push_back(read_external_access(field.value.items[i], element_path(field.path, i)));
        }
    });
    return auth;
}

void read_plugin_auth(const Value& value, const std::string& path, PluginSettings& plugin) {
    reject_unknown_keys(value, path, {"allow", "routes"});
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "allow" && field.value.kind != Value::Kind::null) plugin.allow_unauthenticated = read_allow(field);
        if (key != "routes" || field.value.kind == Value::Kind::null) return;
        if (field.value.kind != Value::Kind::sequence) {
            fail_expected(field.value, field.path, "a list of { path, method, allow }");
        }
        for (std::size_t i = 0; i < field.value.items.size(); ++i) {
            plugin.route_access.push_back(read_route_rule(field.value.items[i], element_path(field.path, i)));
        }
    });
}

void check_exposure(const Config& config) {
    const ServerSettings& server = config.server;
    if (!is_loopback(server.listen_host) && config.auth.external_access.empty() &&
        !config.auth.disable_default_policy) {
        throw ConfigError(server.listen_where, "server.listen",
                          "listening on " + server.listen_host +
                              ", which other machines can reach, with no auth.externalAccess entry: no client could "
                              "call a plugin route. Add auth.externalAccess tokens, listen on 127.0.0.1, or set "
                              "auth.dangerouslyDisableDefaultAuthPolicy: true to serve every route to anyone");
    }
    const AdminSettings& admin = config.admin;
    if (admin.enabled && admin.unix_path.empty() && !is_loopback(admin.listen_host) && admin.token.empty()) {
        throw ConfigError(admin.listen_where, "admin.listen",
                          "the admin listener on " + admin.listen_host +
                              " is reachable from other machines; set admin.token (from $file or ${VAR}), or listen "
                              "on 127.0.0.1 or a unix: socket");
    }
}

}  // namespace kerberus::config::detail
