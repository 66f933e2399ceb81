// How a plain (unquoted) YAML scalar's text is typed. Follows the YAML 1.2
// core schema, except that booleans are case-insensitive and a boolean
// setting also takes yes/no/on/off, as operators coming from YAML 1.1 write.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kerberus::config::detail {

bool is_null_text(std::string_view text);                    // "", ~, null, Null, NULL
std::optional<bool> parse_bool(std::string_view text);       // true/false
std::optional<bool> parse_bool_word(std::string_view text);  // also yes/no/on/off
std::optional<int64_t> parse_int64(std::string_view text);   // [-+]?[0-9]+ within int64
std::optional<double> parse_double(std::string_view text);   // decimal and exponent forms, finite only

}  // namespace kerberus::config::detail
