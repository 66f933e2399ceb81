// A plugin's settings checked against the JSON Schema it declares (its
// descriptor's config_schema, draft-04 as RapidJSON's validator reads it)
// before the plugin sees them: at startup, at --check and on reload.
//
// Errors are configuration errors like any other: the file, line and column
// of the offending YAML node, the key path and what the schema wanted.
// `default`s of the schema are filled in where the settings say nothing, and
// a property with "visibility": "secret" (Backstage's @visibility secret) is
// redacted wherever settings are shown, whatever wrote it.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace kerberus::config {

// Why a schema cannot be used, or empty. The plugin's fault, not the
// operator's: callers name the plugin file.
std::string schema_problem(std::string_view schema_json);

// Validates `settings` of plugin `id` against `schema_json` (which
// schema_problem() accepted) and applies its defaults. Throws ConfigError
// at the offending node (`fallback` when the settings are absent).
void apply_schema(PluginSettings& settings, std::string_view schema_json, const Location& fallback);

}  // namespace kerberus::config
