#include "endpoint_config.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "value_syntax.h"

namespace proxy {
namespace {

using Json = rapidjson::Value;

std::string_view text_of(const Json& v) { return {v.GetString(), v.GetStringLength()}; }

[[noreturn]] void fail(const std::string& path, std::string_view problem) {
    throw ConfigError(path + ": " + std::string(problem));
}

// "/name" or "/name/more": what a decoded, normalised request path can
// start with, so that a key that could never match fails here instead.
void check_key(std::string_view key, const std::string& path) {
    if (key.empty() || key.front() != '/') fail(path, "the endpoint path must start with '/', as in /github");
    for (char c : key) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '%' || c == '?' || c == '#' || c == '\\') {
            fail(path, "the endpoint path must not contain spaces, control characters, '%', '?', '#' or '\\'");
        }
    }
    std::string_view rest = key.substr(1);
    for (;;) {
        std::size_t slash = rest.find('/');
        std::string_view segment = rest.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") {
            fail(path, "the endpoint path must be /name or /name/more, without a trailing '/' or an empty, "
                       "'.' or '..' segment");
        }
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
}

// The config schema (config_schema.h) checked the shapes and types; what
// follows checks what a schema cannot say.

std::vector<std::string> read_list(const Json& v) {
    std::vector<std::string> out;
    for (const Json& item : v.GetArray()) out.emplace_back(text_of(item));
    return out;
}

void read_path_rewrite(const Json& v, const std::string& path, Endpoint& ep) {
    for (const auto& rule : v.GetObject()) {
        std::string pattern(text_of(rule.name));
        try {
            ep.path_rewrite.push_back({std::regex(pattern, std::regex::ECMAScript), std::string(text_of(rule.value))});
        } catch (const std::regex_error& e) {
            fail(path, "invalid regular expression '" + pattern + "': " + e.what());
        }
    }
}

// Messages name the header, never its value: values are often secrets.
void read_headers(const Json& v, const std::string& path, Endpoint& ep) {
    for (const auto& header : v.GetObject()) {
        std::string_view name = text_of(header.name);
        std::string here = path + "." + std::string(name);
        if (!is_token(name)) fail(here, "not a valid header name");
        if (is_reserved_header(name)) fail(here, "hop-by-hop headers and Content-Length cannot be set");
        if (ep.header_names.contains(name)) fail(here, "set twice (header names ignore case)");
        std::string value =
            header.value.IsString() ? std::string(text_of(header.value)) : std::to_string(header.value.GetInt64());
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            fail(here, "the value must not contain a line break or NUL");
        }
        ep.header_names.insert(name);
        ep.headers.emplace_back(std::string(name), std::move(value));
    }
}

std::chrono::milliseconds read_timeout(const Json& v, const std::string& path) {
    std::optional<std::chrono::milliseconds> timeout;
    if (v.IsString()) {
        timeout = parse_duration(text_of(v));
    } else if (v.IsInt64() && v.GetInt64() > 0 && v.GetInt64() <= std::numeric_limits<std::uint32_t>::max() / 1000) {
        timeout = std::chrono::seconds(v.GetInt64());
    }
    // plugin.h carries the timeout as 32-bit milliseconds.
    if (!timeout || timeout->count() <= 0 || timeout->count() > std::numeric_limits<std::uint32_t>::max()) {
        fail(path, "must be a duration such as 250ms, 10s or 2m (a bare number counts seconds)");
    }
    return *timeout;
}

std::uint64_t read_size(const Json& v, const std::string& path) {
    std::optional<std::uint64_t> size;
    if (v.IsString()) {
        size = parse_size(text_of(v));
    } else if (v.IsUint64()) {
        size = v.GetUint64();
    }
    if (!size || *size == 0) fail(path, "must be a size of at least 1 B, such as 512KiB or 10MiB");
    return *size;
}

Credentials read_credentials(const Json& v) {
    std::string_view text = text_of(v);
    if (text == "forward") return Credentials::forward;
    if (text == "dangerously-allow-unauthenticated") return Credentials::dangerously_allow_unauthenticated;
    return Credentials::require;
}

void read_target(const Json& v, const std::string& path, Endpoint& ep) {
    std::string why = "must be an http:// or https:// URL with a host";
    std::optional<TargetUrl> target;
    if (v.IsString()) target = parse_target_url(text_of(v), why);
    if (!target) fail(path, why);
    ep.target = std::move(*target);
}

// Backstage's list is exact (http-proxy-middleware's filter compares
// req.method with it): HEAD is allowed only when listed. Methods are
// case-sensitive (RFC 9110 9.1), so a lower-case name is kept as written
// and warned about, since clients send GET, not get.
void set_methods(Endpoint& ep, const std::vector<std::string>& methods, const std::string& path,
                 std::vector<std::string>& warnings) {
    for (const std::string& m : methods) {
        if (std::find(ep.allowed_methods.begin(), ep.allowed_methods.end(), m) != ep.allowed_methods.end()) continue;
        if (std::any_of(m.begin(), m.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
            warnings.push_back(path + ": method names are case-sensitive; '" + m +
                               "' is not the method clients send as its upper-case name");
        }
        if (!ep.allow.empty()) ep.allow += ", ";
        ep.allow += m;
        ep.allowed_methods.push_back(m);
    }
}

Endpoint parse_endpoint(std::string_view key, const Json& v, std::vector<std::string>& warnings) {
    const std::string path = "endpoints." + std::string(key);
    check_key(key, path);
    Endpoint ep;
    ep.key.assign(key);
    ep.key_segments = static_cast<std::size_t>(std::count(key.begin(), key.end(), '/'));
    std::vector<std::string> allowed_headers;
    if (v.IsString()) {
        read_target(v, path + ".target", ep);
    } else {
        for (const auto& member : v.GetObject()) {
            std::string_view name = text_of(member.name);
            const Json& value = member.value;
            std::string here = path + "." + std::string(name);
            if (name == "target") read_target(value, here, ep);
            if (name == "changeOrigin") ep.change_origin = value.GetBool();
            if (name == "pathRewrite") read_path_rewrite(value, here, ep);
            if (name == "headers") read_headers(value, here, ep);
            if (name == "allowedMethods") set_methods(ep, read_list(value), here, warnings);
            if (name == "allowedHeaders") allowed_headers = read_list(value);
            if (name == "credentials") ep.credentials = read_credentials(value);
            if (name == "timeout") ep.timeout = read_timeout(value, here);
            if (name == "maxResponseSize") ep.max_response_bytes = read_size(value, here);
            if (name == "ws") ep.ws = value.GetBool();
        }
    }

    std::vector<std::string> ignored;
    ep.header_policy = make_header_policy(allowed_headers, ep.header_names, ep.credentials, ignored);
    for (const std::string& name : ignored) {
        warnings.push_back(path + ".allowedHeaders: " + name + " is hop-by-hop or set by the daemon, so it never passes");
    }
    return ep;
}

}  // namespace

bool Endpoint::allows(std::string_view method) const noexcept {
    if (allowed_methods.empty()) return true;
    return std::find(allowed_methods.begin(), allowed_methods.end(), method) != allowed_methods.end();
}

ProxyConfig parse_config(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) throw ConfigError("config: must be a map with `endpoints`");
    ProxyConfig config;
    auto endpoints = doc.FindMember("endpoints");
    // `endpoints:` with every entry commented out is null.
    if (endpoints == doc.MemberEnd() || !endpoints->value.IsObject()) return config;
    for (const auto& endpoint : endpoints->value.GetObject()) {
        config.endpoints.push_back(parse_endpoint(text_of(endpoint.name), endpoint.value, config.warnings));
    }
    std::sort(config.endpoints.begin(), config.endpoints.end(),
              [](const Endpoint& a, const Endpoint& b) { return a.key < b.key; });
    return config;
}

}  // namespace proxy
