// Backstage's substitution forms, applied to a whole document before it is
// merged or validated:
//   "${VAR}", "${VAR:-default}" (default when VAR is unset or empty) and
//   "$${" (a literal "${") inside any string value; map keys are left alone;
//   { $env: VAR }        the variable's value;
//   { $file: path }      the file's text as a string, one trailing newline off;
//   { $include: f.yaml } the parsed file, substituted in turn.
// Relative paths resolve against the directory of the file that wrote them.
// A value from "${...}" in a plain scalar or from $env is typed by its text
// (workers: ${W} is an integer); $file always gives a string.
#pragma once

#include "config/config.h"
#include "config/value.h"

namespace kerberus::config::detail {

// `file` is the document's own file, the first link of any include cycle.
// Throws ConfigError at the scalar or map that cannot be substituted.
void substitute(Value& document, const std::string& file, const Environment& env);

}  // namespace kerberus::config::detail
