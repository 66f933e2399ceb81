// The loader's own view of a YAML document. Every node remembers the file and
// position that wrote it, so an error found after several files were merged
// still points at the file that holds the bad value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace kerberus::config::detail {

struct Entry;

struct Value {
    enum class Kind { null, scalar, map, sequence };

    Kind kind = Kind::null;
    std::string text;   // scalar only
    bool plain = true;  // a plain scalar is typed by its text; a quoted one is a string
    Location where;
    // Set when substitution produced the value: how the file referred to it
    // ("${TOKEN}", "$file: token.txt"). Errors quote this instead of the
    // value, which may be a secret.
    std::string source;
    std::vector<Entry> entries;  // map: file order, keys unique
    std::vector<Value> items;    // sequence

    const Entry* find(std::string_view key) const;
    Entry* find(std::string_view key);
};

struct Entry {
    std::string key;
    Location key_where;
    Value value;
};

// For messages: "\"abc\"", "a map", "a list", "nothing", or the substitution
// that produced a value without showing the value.
std::string describe(const Value& value);

// Key paths as errors print them: "server.workers", "plugin_directories[1]".
std::string child_path(const std::string& parent, std::string_view key);
std::string element_path(const std::string& parent, std::size_t index);

}  // namespace kerberus::config::detail
