#include "config/field_reader.h"

#include "config/scalar_syntax.h"

namespace kerberus::config::detail {

void fail(const Value& value, const std::string& path, const std::string& message) {
    throw ConfigError(value.where, path, message);
}

void fail_expected(const Value& value, const std::string& path, const std::string& expected) {
    fail(value, path, "expected " + expected + ", got " + describe(value));
}

const std::vector<Entry>& entries_of(const Value& value, const std::string& path, std::string_view what) {
    static const std::vector<Entry> kNone;
    if (value.kind == Value::Kind::null) return kNone;
    if (value.kind != Value::Kind::map) fail_expected(value, path, std::string(what));
    return value.entries;
}

void reject_unknown_keys(const Value& map, const std::string& path, std::initializer_list<std::string_view> known) {
    for (const Entry& entry : entries_of(map, path, "a map")) {
        bool found = false;
        for (std::string_view key : known) found = found || entry.key == key;
        if (found) continue;
        std::string list;
        for (std::string_view key : known) list += (list.empty() ? "" : ", ") + std::string(key);
        throw ConfigError(entry.key_where, child_path(path, entry.key), "unknown key (expected one of: " + list + ")");
    }
}

const std::string* text_of(const Value& value, const std::string& path, const std::string& expected) {
    if (value.kind == Value::Kind::null) return nullptr;
    if (value.kind != Value::Kind::scalar) fail_expected(value, path, expected);
    return &value.text;
}

void read_bool(const Field& field, bool& out) {
    static const std::string kExpected = "true or false";
    const std::string* text = text_of(field.value, field.path, kExpected);
    if (!text) return;
    std::optional<bool> parsed = parse_bool_word(*text);
    if (!parsed) fail_expected(field.value, field.path, kExpected);
    out = *parsed;
}

void read_string(const Field& field, std::string& out, const std::string& expected) {
    const std::string* text = text_of(field.value, field.path, expected);
    if (!text) return;
    if (text->empty()) fail_expected(field.value, field.path, expected);
    out = *text;
}

std::vector<std::string> read_string_or_list(const Field& field, const std::string& expected) {
    std::vector<std::string> out;
    if (field.value.kind == Value::Kind::sequence) {
        for (std::size_t i = 0; i < field.value.items.size(); ++i) {
            std::string item;
            read_string(Field{field.value.items[i], element_path(field.path, i)}, item, expected);
            if (item.empty()) fail_expected(field.value.items[i], element_path(field.path, i), expected);
            out.push_back(std::move(item));
        }
        return out;
    }
    std::string one;
    read_string(field, one, expected + ", or a list of them");
    if (!one.empty()) out.push_back(std::move(one));
    return out;
}

}  // namespace kerberus::config::detail
