// Reading typed settings out of the merged document: the pieces every
// section's reader shares, each failing with a ConfigError at the exact
// file position of the value that does not fit.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/value.h"

namespace kerberus::config::detail {

[[noreturn]] void fail(const Value& value, const std::string& path, const std::string& message);
[[noreturn]] void fail_expected(const Value& value, const std::string& path, const std::string& expected);

// The entries of a map, or none for null; anything else is an error.
const std::vector<Entry>& entries_of(const Value& value, const std::string& path, std::string_view what);

void reject_unknown_keys(const Value& map, const std::string& path, std::initializer_list<std::string_view> known);

// Settings are read from their text whether quoted or not: "30s" and 30s
// mean the same to an operator. Null (not set) gives nullptr.
const std::string* text_of(const Value& value, const std::string& path, const std::string& expected);

struct Field {
    const Value& value;
    std::string path;
};

template <typename Visit>
void for_each_field(const Value& map, const std::string& path, Visit visit) {
    for (const Entry& entry : entries_of(map, path, "a map"))
        visit(entry.key, Field{entry.value, child_path(path, entry.key)});
}

void read_bool(const Field& field, bool& out);

// A setting whose text `parse` turns into its value; nullopt for null.
template <typename Parse>
auto read_parsed(const Field& field, const std::string& expected, Parse parse) -> decltype(parse("")) {
    const std::string* text = text_of(field.value, field.path, expected);
    if (!text) return std::nullopt;
    auto value = parse(*text);
    if (!value) fail_expected(field.value, field.path, expected);
    return value;
}

// A non-empty string (a scalar's text); null leaves `out` as it is.
void read_string(const Field& field, std::string& out, const std::string& expected);

// A string or a list of strings (Backstage writes `issuer: x` and
// `issuer: [x, y]` alike); null leaves `out` empty.
std::vector<std::string> read_string_or_list(const Field& field, const std::string& expected);

}  // namespace kerberus::config::detail
