// One configuration file: read, parsed with yaml-cpp and turned into a Value
// tree, rejecting what yaml-cpp lets through silently (duplicate keys, extra
// documents, recursive aliases) and what its own loader never gets past.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/document_builder.h"
#include "config/value.h"

namespace kerberus::config::detail {

// The whole file, or nullopt with *error set to the reason.
std::optional<std::string> read_file(const std::string& path, std::string* error);

// Throws ConfigError: unreadable file (naming it), syntax error, duplicate key.
Value read_document(const std::string& file);

// Positions in errors and in the Values name `file`.
Value parse_document(const std::string& text, const std::string& file, const DocumentLimits& limits = {});

// Tags for scalars that substitution produced, which may be secrets.
inline constexpr const char* kPlainSecretTag = "?secret";
inline constexpr const char* kQuotedSecretTag = "!secret";

// Quoted scalars get the tag "!" and plain ones "?", as the parser tags
// them; substituted ones the tags above.
YAML::Node to_yaml(const Value& value);

}  // namespace kerberus::config::detail
