#include "config/value.h"

#include <algorithm>
#include <utility>

namespace kerberus::config::detail {
namespace {

// Long values would drown the message; the position already says where.
constexpr std::size_t kMaxQuotedLength = 60;

std::string quote_for_message(std::string_view text) {
    std::string out = "\"";
    for (char c : text.substr(0, kMaxQuotedLength)) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += '?';
        } else {
            out += c;
        }
    }
    if (text.size() > kMaxQuotedLength) out += "...";
    return out + "\"";
}

}  // namespace

const Entry* Value::find(std::string_view key) const {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.key == key; });
    return it == entries.end() ? nullptr : &*it;
}

Entry* Value::find(std::string_view key) { return const_cast<Entry*>(std::as_const(*this).find(key)); }

std::string describe(const Value& value) {
    if (!value.source.empty()) return "the value of " + value.source + " (not shown)";
    switch (value.kind) {
        case Value::Kind::null:
            return "nothing";
        case Value::Kind::scalar:
            return quote_for_message(value.text);
        case Value::Kind::map:
            return "a map";
        case Value::Kind::sequence:
            return "a list";
    }
    return "nothing";
}

std::string child_path(const std::string& parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    std::string path = parent;
    path += '.';
    path += key;
    return path;
}

std::string element_path(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

}  // namespace kerberus::config::detail
