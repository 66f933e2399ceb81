#include "config/validate.h"

#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <system_error>

#include "common/semver.h"
#include "config/auth_settings.h"
#include "config/field_reader.h"
#include "config/scalar_syntax.h"
#include "config/setting_syntax.h"
#include "config/yaml_document.h"

namespace kerberus::config::detail {
namespace {

constexpr unsigned kMaxWorkers = 256;

void read_level(const Field& field, std::string& out) {
    static const std::string kExpected = "one of trace, debug, info, warn, error, critical, off";
    if (auto level = read_parsed(field, kExpected, parse_log_level)) out = std::move(*level);
}

void read_duration(const Field& field, Milliseconds& out) {
    static const std::string kExpected = "a duration such as 250ms, 30s, 5m, 1h or a number of seconds";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    std::optional<Milliseconds> duration = parse_duration(*text);
    if (!duration) fail_expected(field.value, field.path, kExpected);
    if (duration->count() == 0) fail(field.value, field.path, "must be greater than 0");
    out = *duration;
}

void read_size(const Field& field, std::size_t& out) {
    static const std::string kExpected = "a size in bytes, or with a unit B, KiB, MiB, GiB, KB, MB or GB, such as 1MiB";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    std::optional<std::size_t> size = parse_size(*text);
    if (!size) fail_expected(field.value, field.path, kExpected);
    if (*size == 0) fail(field.value, field.path, "must be greater than 0");
    out = *size;
}

void read_workers(const Field& field, unsigned& out) {
    static const std::string kExpected = "an integer from 1 to " + std::to_string(kMaxWorkers);
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    std::optional<int64_t> workers = parse_int64(*text);
    if (!workers || *workers < 1 || *workers > int64_t{kMaxWorkers}) fail_expected(field.value, field.path, kExpected);
    out = static_cast<unsigned>(*workers);
}

// An integer from `low` to `high`.
void read_count(const Field& field, std::size_t& out, std::size_t low, std::size_t high) {
    const std::string expected = "an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                                 (low == 0 ? " (0: no limit)" : "");
    const std::string* text = text_of(field.value, field.path, expected);
    if (!text) return;
    std::optional<int64_t> count = parse_int64(*text);
    if (!count || *count < int64_t(low) || *count > int64_t(high)) fail_expected(field.value, field.path, expected);
    out = static_cast<std::size_t>(*count);
}

void read_encoded_slashes(const Field& field, bool& keep) {
    static const std::string kExpected = "keep or refuse";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    if (*text != "keep" && *text != "refuse") fail_expected(field.value, field.path, kExpected);
    keep = *text == "keep";
}

void read_listen(const Field& field, ServerSettings& out) {
    static const std::string kExpected = "host:port such as 127.0.0.1:7007 or [::1]:7007";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    std::string why;
    std::optional<ListenAddress> address = parse_listen(*text, &why);
    if (!address)
        fail(field.value, field.path, "expected " + kExpected + ", got " + describe(field.value) + ": " + why);
    out.listen_host = std::move(address->host);
    out.listen_port = address->port;
    out.listen_where = field.value.where;
}

// A file path; a relative one means the same wherever the daemon started.
void read_file_path(const Field& field, std::string& out, Location& where) {
    read_string(field, out, "a file path");
    if (out.empty()) return;
    if (std::filesystem::path(out).is_relative()) {
        out = (std::filesystem::path(field.value.where.file).parent_path() / out).string();
    }
    where = field.value.where;
}

TlsSettings read_tls(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"certificate", "key", "client_ca", "client_certificate"});
    TlsSettings tls;
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "certificate") read_file_path(field, tls.certificate, tls.certificate_where);
        if (key == "key") read_file_path(field, tls.key, tls.key_where);
        if (key == "client_ca") read_file_path(field, tls.client_ca, tls.client_ca_where);
        if (key == "client_certificate") {
            static const std::string kExpected = "none, optional or required";
            const std::string* text = text_of(field.value, field.path, kExpected);
            if (!text) return;
            using Mode = TlsSettings::ClientCertificate;
            if (*text == "none") tls.client_certificate = Mode::none;
            else if (*text == "optional") tls.client_certificate = Mode::optional;
            else if (*text == "required") tls.client_certificate = Mode::required;
            else fail_expected(field.value, field.path, kExpected);
        }
    });
    // One without the other is a half-done edit, not a choice.
    if (tls.certificate.empty() != tls.key.empty() && value.kind != Value::Kind::null) {
        fail(value, path, tls.key.empty() ? "certificate is set but key is not: TLS needs both"
                                          : "key is set but certificate is not: TLS needs both");
    }
    if (tls.client_certificate != TlsSettings::ClientCertificate::none && tls.client_ca.empty()) {
        fail(value, path, "client_certificate: optional or required needs client_ca, the CAs to verify them against");
    }
    if (!tls.client_ca.empty() && tls.certificate.empty()) {
        fail(value, path, "client_ca is set but certificate and key are not: client certificates need TLS");
    }
    return tls;
}

ServerSettings read_server(const Value& value, const std::string& path) {
    reject_unknown_keys(
        value, path,
        {"listen", "workers", "max_request_body", "request_timeout", "header_timeout", "idle_timeout",
         "shutdown_timeout", "encoded_slashes", "body_timeout", "max_connections", "max_connections_per_client",
         "max_header_fields", "tls"});
    ServerSettings server;
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "listen") read_listen(field, server);
        if (key == "workers") read_workers(field, server.workers);
        if (key == "max_request_body") read_size(field, server.max_request_body);
        if (key == "request_timeout") read_duration(field, server.request_timeout);
        if (key == "header_timeout") read_duration(field, server.header_timeout);
        if (key == "idle_timeout") read_duration(field, server.idle_timeout);
        if (key == "shutdown_timeout") read_duration(field, server.shutdown_timeout);
        if (key == "encoded_slashes") read_encoded_slashes(field, server.keep_encoded_slashes);
        if (key == "body_timeout") read_duration(field, server.body_timeout);
        if (key == "max_connections") read_count(field, server.max_connections, 0, 1'000'000);
        if (key == "max_connections_per_client") read_count(field, server.max_connections_per_client, 0, 1'000'000);
        if (key == "max_header_fields") read_count(field, server.max_header_fields, 1, 10'000);
        if (key == "tls") server.tls = read_tls(field.value, field.path);
    });
    return server;
}

HealthSettings read_health(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"interval", "timeout"});
    HealthSettings health;
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "interval") read_duration(field, health.interval);
        if (key == "timeout") read_duration(field, health.timeout);
    });
    return health;
}

AdminSettings read_admin(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"enabled", "listen", "token"});
    AdminSettings admin;
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "enabled") read_bool(field, admin.enabled);
        if (key == "token") {
            read_string(field, admin.token, "a token of at least 16 characters without whitespace");
            if (admin.token.size() < 16 || admin.token.find_first_of(" \t\r\n") != std::string::npos) {
                fail(field.value, field.path, "expected a token of at least 16 characters without whitespace");
            }
        }
        if (key != "listen") return;
        admin.listen_where = field.value.where;
        static const std::string kExpected = "host:port such as 127.0.0.1:7008, or unix:/path/to/socket";
        const std::string* text = text_of(field.value, field.path, kExpected);
        if (!text) return;
        if (text->rfind("unix:", 0) == 0) {
            admin.unix_path = text->substr(5);
            if (admin.unix_path.empty() || admin.unix_path.front() != '/' || admin.unix_path.size() > 107) {
                fail(field.value, field.path, "expected an absolute socket path of at most 107 bytes after unix:");
            }
            return;
        }
        ServerSettings parsed;
        read_listen(field, parsed);
        admin.listen_host = parsed.listen_host;
        admin.listen_port = parsed.listen_port;
    });
    return admin;
}

AccessLogSettings read_access_log(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"enabled", "format", "path"});
    AccessLogSettings log;
    for_each_field(value, path, [&](const std::string& key, const Field& field) {
        if (key == "enabled") read_bool(field, log.enabled);
        if (key == "format") {
            static const std::string kExpected = "text or json";
            const std::string* text = text_of(field.value, field.path, kExpected);
            if (text && *text != "text" && *text != "json") fail_expected(field.value, field.path, kExpected);
            if (text) log.format = *text;
        }
        if (key == "path") {
            static const std::string kExpected = "a file path, or - for the journal (standard output outside systemd)";
            const std::string* text = text_of(field.value, field.path, kExpected);
            if (text && text->empty()) fail_expected(field.value, field.path, kExpected);
            if (!text) return;
            log.path = *text;
            if (log.path != "-" && std::filesystem::path(log.path).is_relative()) {
                log.path = (std::filesystem::path(field.value.where.file).parent_path() / log.path).string();
            }
        }
    });
    return log;
}

PluginTrustSettings read_plugin_trust(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"strict_modes"});
    PluginTrustSettings trust;
    for_each_field(value, path, [&](const std::string&, const Field& field) { read_bool(field, trust.strict_modes); });
    return trust;
}

LogSettings read_logging(const Value& value, const std::string& path) {
    reject_unknown_keys(value, path, {"level"});
    LogSettings log;
    for_each_field(value, path, [&](const std::string&, const Field& field) { read_level(field, log.level); });
    return log;
}

// Relative entries resolve against the directory of the file that wrote them,
// so a file means the same wherever the daemon was started from.
std::filesystem::path resolve_directory(const Value& item, const std::string& path) {
    namespace fs = std::filesystem;
    static const std::string kExpected = "a directory path";
    const std::string* text = text_of(item, path, kExpected);
    if (!text || text->empty()) fail_expected(item, path, kExpected);
    fs::path directory(*text);
    if (directory.is_relative()) directory = fs::path(item.where.file).parent_path() / directory;
    std::error_code ec;
    fs::path absolute = fs::absolute(directory, ec);
    if (ec) return directory;
    fs::path canonical = fs::weakly_canonical(absolute, ec);
    return ec ? absolute : canonical;
}

std::vector<std::filesystem::path> read_directories(const Value& value, const std::string& path) {
    std::vector<std::filesystem::path> directories;
    if (value.kind == Value::Kind::null) return directories;
    if (value.kind != Value::Kind::sequence) fail_expected(value, path, "a list of directory paths");
    for (std::size_t i = 0; i < value.items.size(); ++i) {
        directories.push_back(resolve_directory(value.items[i], element_path(path, i)));
    }
    return directories;
}

void read_version(const Field& field, std::optional<std::string>& out) {
    static const std::string kExpected = "a version constraint such as ^1.2";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    std::string error;
    if (!VersionConstraint::parse(*text, &error)) {
        // The parser's reason may quote the text, which could be a secret.
        if (!field.value.source.empty()) fail_expected(field.value, field.path, kExpected);
        fail(field.value, field.path, "invalid version constraint: " + error);
    }
    out = *text;
}

// What `sha256sum FILE` prints first; either case, kept in lower case.
void read_sha256(const Field& field, std::optional<std::string>& out) {
    static const std::string kExpected = "a SHA-256 digest of 64 hexadecimal digits, as sha256sum prints it";
    if (auto digest = read_parsed(field, kExpected, parse_sha256)) out = std::move(digest);
}

PluginSettings read_plugin(const Entry& entry, const std::string& path) {
    if (!is_plugin_id(entry.key)) {
        throw ConfigError(entry.key_where, path,
                          "invalid plugin id (expected [a-z0-9][a-z0-9-]*, at most 64 characters)");
    }
    PluginSettings plugin;
    plugin.id = entry.key;
    plugin.where = entry.key_where;
    reject_unknown_keys(entry.value, path,
                        {"enabled", "version", "required", "log_level", "sha256", "auth", "config"});
    for_each_field(entry.value, path, [&](const std::string& key, const Field& field) {
        if (key == "enabled") read_bool(field, plugin.enabled);
        if (key == "version") read_version(field, plugin.version);
        if (key == "required") read_bool(field, plugin.required);
        if (key == "sha256") read_sha256(field, plugin.sha256);
        if (key == "auth") read_plugin_auth(field.value, field.path, plugin);
        if (key == "log_level") {
            std::string level;
            read_level(field, level);
            if (!level.empty()) plugin.log_level = std::move(level);
        }
        if (key == "config") {
            plugin.settings = to_yaml(field.value);
            plugin.tree = std::make_shared<const Value>(field.value);
        }
    });
    return plugin;
}

std::map<std::string, PluginSettings> read_plugins(const Value& value, const std::string& path) {
    std::map<std::string, PluginSettings> plugins;
    for (const Entry& entry : entries_of(value, path, "a map of plugin ids to their settings")) {
        PluginSettings plugin = read_plugin(entry, child_path(path, entry.key));
        plugins.emplace(plugin.id, std::move(plugin));
    }
    return plugins;
}

}  // namespace

Config validate(const Value& document) {
    reject_unknown_keys(document, "",
                        {"server", "logging", "health", "admin", "auth", "access_log", "plugin_trust",
                         "plugin_directories", "plugins"});
    Config config;
    for_each_field(document, "", [&](const std::string& key, const Field& field) {
        if (key == "server") config.server = read_server(field.value, field.path);
        if (key == "logging") config.log = read_logging(field.value, field.path);
        if (key == "health") config.health = read_health(field.value, field.path);
        if (key == "admin") config.admin = read_admin(field.value, field.path);
        if (key == "access_log") config.access_log = read_access_log(field.value, field.path);
        if (key == "plugin_trust") config.plugin_trust = read_plugin_trust(field.value, field.path);
        if (key == "plugin_directories") config.plugin_directories = read_directories(field.value, field.path);
        if (key == "plugins") config.plugins = read_plugins(field.value, field.path);
        if (key == "auth") config.auth = read_auth(field.value, field.path);
    });
    check_exposure(config);
    return config;
}

}  // namespace kerberus::config::detail
