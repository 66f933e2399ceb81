// A plugin's read-only view of its own configuration namespace: typed
// lookups by dotted key and the whole namespace as JSON. Built once per
// plugin instance; lookups are thread-safe because nothing mutates after
// construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace kerberus::config {

namespace detail {
struct NamespaceTree;
}

enum class LookupResult { ok, not_found, wrong_type };

class PluginNamespace {
public:
    explicit PluginNamespace(YAML::Node settings);  // Null/undefined = empty namespace

    // Dotted key; numeric elements index lists. Strings returned by
    // get_string point into this object and live as long as it does (or a
    // copy of it). A key whose value is null counts as not found. Only plain
    // (unquoted) scalars have a type other than string: get_int on "5" is
    // wrong_type, on 5 it is ok.
    LookupResult get_string(std::string_view key, std::string_view& out) const;
    LookupResult get_int(std::string_view key, int64_t& out) const;
    LookupResult get_double(std::string_view key, double& out) const;
    LookupResult get_bool(std::string_view key, bool& out) const;

    // The namespace as compact JSON ("{}" when empty), computed once.
    const std::string& json() const { return json_; }
    // The same for people to read: values that came from $file, $env or
    // ${VAR}, and every value under a key named like a credential
    // (password, secret, token, api key, authorization, cookie, ...), are
    // "[redacted]".
    const std::string& redacted_json() const { return redacted_json_; }

private:
    std::shared_ptr<const detail::NamespaceTree> root_;  // immutable; shared by copies
    std::string json_;
    std::string redacted_json_;
};

}  // namespace kerberus::config
