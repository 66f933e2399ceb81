// The daemon's configuration: several YAML files merged into one typed
// value. Nothing here knows about HTTP or plugins' code; it only validates
// and shapes what the operator wrote.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace kerberus::config {

namespace detail {
struct Value;
}

// Where a value came from; line and column are 1-based (0 = unknown).
struct Location {
    std::string file;
    int line = 0;
    int column = 0;
};

// Every configuration problem: "file:line:col: key.path: message".
class ConfigError : public std::runtime_error {
public:
    ConfigError(Location where, std::string key_path, std::string message);
    const Location& where() const { return where_; }
    const std::string& key_path() const { return key_path_; }
    const std::string& message() const { return message_; }

private:
    Location where_;
    std::string key_path_;
    std::string message_;
};

using Milliseconds = std::chrono::milliseconds;

// server.tls: TLS on the main listener. Off while `certificate` is empty.
// Paths are absolute (relative ones resolve against the directory of the
// file that wrote them); the files are read when the listener starts and
// again on every reload, so renewed ones are picked up.
struct TlsSettings {
    enum class ClientCertificate { none, optional, required };
    std::string certificate;  // PEM: the server's certificate, then its chain
    std::string key;          // PEM: the certificate's private key
    std::string client_ca;    // PEM: CAs a client certificate must chain to; empty: none
    ClientCertificate client_certificate = ClientCertificate::none;
    // Where each was written, for errors found when the files are read.
    Location certificate_where, key_where, client_ca_where;
    bool enabled() const { return !certificate.empty(); }
};

struct ServerSettings {
    std::string listen_host = "127.0.0.1";
    uint16_t listen_port = 7007;  // 0 = ephemeral (tests)
    unsigned workers = 2;
    std::size_t max_request_body = 1024 * 1024;
    Milliseconds request_timeout{30'000};   // async deadline -> 504
    Milliseconds header_timeout{60'000};    // a client slower than this to send a request is dropped
    Milliseconds idle_timeout{75'000};      // a connection with no request in progress this long is closed
    Milliseconds shutdown_timeout{10'000};  // drain deadline on SIGTERM
    bool keep_encoded_slashes = true;       // encoded_slashes: keep (true) | refuse
    Milliseconds body_timeout{60'000};      // a streamed request body silent this long ends (nginx client_body_timeout)
    std::size_t max_connections = 10'000;   // open client connections; 0: no limit
    std::size_t max_connections_per_client = 0;  // from one client address; 0: no limit
    std::size_t max_header_fields = 100;    // header fields in one request; more gets 431
    Location listen_where;                  // where server.listen was written (none: the default)
    TlsSettings tls;
};

// health: how plugins' health callbacks are called.
struct HealthSettings {
    Milliseconds interval{10'000};  // between two calls of one plugin's callback
    Milliseconds timeout{2'000};    // a call running longer counts as unhealthy
};

// admin: the listener for metrics, the inventory and the dashboard.
struct AdminSettings {
    bool enabled = true;
    std::string listen_host = "127.0.0.1";  // ignored when unix_path is set
    uint16_t listen_port = 7008;            // 0 = ephemeral (tests)
    std::string unix_path;                  // "unix:/run/kerberus/admin.sock" gives "/run/kerberus/admin.sock"
    // admin.token: the bearer token every admin request must carry; required
    // when the admin listener is not on loopback or a Unix socket.
    std::string token;
    Location listen_where;  // where admin.listen was written (none: the default)
};

// auth.externalAccess[i]: one kind of caller from outside, written as
// Backstage's backend.auth.externalAccess entries are
// (https://backstage.io/docs/auth/service-to-service-auth).
struct ExternalAccess {
    enum class Type { static_token, legacy, jwks };
    Type type = Type::static_token;
    std::string token;    // static: options.token
    std::string secret;   // legacy: options.secret, base64 as written (auth decodes it)
    std::string subject;  // static, legacy: options.subject
    std::string url;      // jwks: options.url, http:// or https://
    std::vector<std::string> issuers;     // jwks: options.issuer; empty: any
    std::vector<std::string> audiences;   // jwks: options.audience; empty: any
    std::vector<std::string> algorithms;  // jwks: options.algorithm; empty: RS256 and ES256
    std::string subject_prefix;           // jwks: options.subjectPrefix, put before the token's sub
    std::vector<std::string> plugins;     // accessRestrictions[].plugin; empty: every plugin
    Location where;
    std::string key_path;  // "auth.externalAccess[0]"
};

// auth: who may call plugin routes (Backstage's backend.auth).
struct AuthSettings {
    // dangerouslyDisableDefaultAuthPolicy: routes need no credentials unless
    // a plugins.<id>.auth rule says they do.
    bool disable_default_policy = false;
    std::vector<ExternalAccess> external_access;
};

// plugins.<id>.auth.routes[i]: the operator's word on some routes of one
// plugin, over what the plugin marked.
struct RouteAccessRule {
    std::string method;  // empty: every method
    std::string path;    // a route pattern or a prefix of one at a '/' ("/status" covers "/status/:code")
    bool unauthenticated = false;  // allow: unauthenticated (true) | authenticated
    Location where;
};

// access_log: one line per answered request.
struct AccessLogSettings {
    bool enabled = false;
    std::string format = "text";  // text (Common Log Format plus extras) | json
    std::string path = "-";       // a file; "-": the journal under systemd, else standard output
};

struct LogSettings {
    std::string level = "info";  // trace|debug|info|warn|error|critical|off
};

// plugin_trust: what a plugin file must satisfy before its code is loaded.
struct PluginTrustSettings {
    // Like sshd's StrictModes: a plugin file or directory owned by anyone
    // but root or the daemon's user, or writable by its group or others, is
    // refused. Off only for development.
    bool strict_modes = true;
};

// plugins.<id>: the host's policy for one plugin plus its own settings.
struct PluginSettings {
    std::string id;
    bool enabled = true;
    std::optional<std::string> version;  // a valid constraint (common/semver.h)
    bool required = false;
    std::optional<std::string> log_level;
    // The SHA-256 (64 lower-case hex digits) a file must have to be loaded
    // as this plugin; absent: any digest.
    std::optional<std::string> sha256;
    // plugins.<id>.auth.allow: every route of the plugin unauthenticated
    // (true) or authenticated (false); absent: as the plugin marked them.
    std::optional<bool> allow_unauthenticated;
    std::vector<RouteAccessRule> route_access;  // plugins.<id>.auth.routes
    YAML::Node settings;  // plugins.<id>.config after substitution; Null if absent
    // The same as the loader read it, positions included, for errors found
    // later (a plugin's config schema); null when absent.
    std::shared_ptr<const detail::Value> tree;
    Location where;       // where plugins.<id> was written (last file that did)
};

struct Config {
    std::vector<std::string> files;
    ServerSettings server;
    LogSettings log;
    HealthSettings health;
    AdminSettings admin;
    AccessLogSettings access_log;
    PluginTrustSettings plugin_trust;
    AuthSettings auth;
    // Absolute (or relative to the declaring file's directory), in order.
    std::vector<std::filesystem::path> plugin_directories;
    std::map<std::string, PluginSettings> plugins;
};

// Looks up environment variables; tests pass their own.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment process_environment();

// Loads, substitutes, merges (later files win; maps merge deeply, lists and
// scalars are replaced) and validates. Throws ConfigError.
Config load(const std::vector<std::string>& files, const Environment& env = process_environment());

}  // namespace kerberus::config
