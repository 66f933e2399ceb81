#include "config/yaml_document.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <yaml-cpp/depthguard.h>

namespace kerberus::config::detail {
namespace {

// Configuration and secret files are small; the cap stops a mistaken
// "$file: /dev/zero" from eating the machine.
constexpr std::size_t kMaxFileSize = 64 * 1024 * 1024;

// Aliases are shared inside yaml-cpp but copied here, so a few lines of
// nested aliases could expand to billions of nodes.
constexpr std::size_t kMaxNodes = 100'000;

Location location(const std::string& file, const YAML::Mark& mark) {
    if (mark.is_null()) return {file, 0, 0};
    return {file, mark.line + 1, mark.column + 1};
}

std::string position(const Location& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

class Converter {
public:
    explicit Converter(const std::string& file) : file_(file) {}

    Value convert(const YAML::Node& node, const std::string& path) {
        if (++nodes_ > kMaxNodes) {
            throw ConfigError(
                location(file_, node.Mark()), path,
                "the document has more than " + std::to_string(kMaxNodes) + " nodes once aliases are expanded");
        }
        Value value;
        value.where = location(file_, node.Mark());
        switch (node.Type()) {
            case YAML::NodeType::Scalar:
                value.kind = Value::Kind::scalar;
                value.text = node.Scalar();
                value.plain = node.Tag() == "?";
                break;
            case YAML::NodeType::Sequence:
                value.kind = Value::Kind::sequence;
                enter(node, value, path);
                for (const YAML::Node& item : node) {
                    value.items.push_back(convert(item, element_path(path, value.items.size())));
                }
                ancestors_.pop_back();
                break;
            case YAML::NodeType::Map:
                value.kind = Value::Kind::map;
                enter(node, value, path);
                for (const auto& pair : node) add_entry(value, pair.first, pair.second, path);
                ancestors_.pop_back();
                break;
            case YAML::NodeType::Null:
            case YAML::NodeType::Undefined:
                break;
        }
        return value;
    }

private:
    // An alias to one of its own ancestors makes the graph a cycle.
    void enter(const YAML::Node& node, const Value& value, const std::string& path) {
        for (const YAML::Node& ancestor : ancestors_) {
            if (ancestor.is(node)) throw ConfigError(value.where, path, "an alias refers to a node that contains it");
        }
        ancestors_.push_back(node);
    }

    void add_entry(Value& map, const YAML::Node& key, const YAML::Node& node, const std::string& path) {
        Location key_where = location(file_, key.Mark());
        if (!key.IsScalar()) throw ConfigError(key_where, path, "a map key must be a scalar");
        std::string key_path = child_path(path, key.Scalar());
        if (const Entry* first = map.find(key.Scalar())) {
            throw ConfigError(key_where, key_path, "duplicate key (first at " + position(first->key_where) + ")");
        }
        map.entries.push_back({key.Scalar(), key_where, convert(node, key_path)});
    }

    const std::string& file_;
    std::vector<YAML::Node> ancestors_;
    std::size_t nodes_ = 0;
};

}  // namespace

std::optional<std::string> read_file(const std::string& path, std::string* error) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        *error = std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    char buffer[16 * 1024];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get())) {
        if (text.size() + n > kMaxFileSize) {
            *error = "larger than " + std::to_string(kMaxFileSize / (1024 * 1024)) + " MiB";
            return std::nullopt;
        }
        text.append(buffer, n);
    }
    if (std::ferror(file.get())) {
        *error = std::strerror(errno);
        return std::nullopt;
    }
    return text;
}

Value read_document(const std::string& file) {
    std::string error;
    std::optional<std::string> text = read_file(file, &error);
    if (!text) throw ConfigError({file, 0, 0}, "", "cannot read the file: " + error);
    return parse_document(*text, file);
}

Value parse_document(const std::string& text, const std::string& file) {
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(text);
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp 0.7 gives this one the message "bad file".
        throw ConfigError(location(file, e.mark), "", "YAML syntax error: nested too deeply");
    } catch (const YAML::Exception& e) {
        throw ConfigError(location(file, e.mark), "", "YAML syntax error: " + e.msg);
    }
    if (documents.empty()) {
        Value empty;
        empty.where = {file, 1, 1};
        return empty;
    }
    if (documents.size() > 1) {
        throw ConfigError(location(file, documents[1].Mark()), "",
                          "a configuration file holds one YAML document, this is the second");
    }
    return Converter(file).convert(documents.front(), "");
}

YAML::Node to_yaml(const Value& value) {
    switch (value.kind) {
        case Value::Kind::null:
            return YAML::Node(YAML::NodeType::Null);
        case Value::Kind::scalar: {
            YAML::Node node(value.text);
            node.SetTag(value.plain ? "?" : "!");
            return node;
        }
        case Value::Kind::map: {
            YAML::Node node(YAML::NodeType::Map);
            for (const Entry& entry : value.entries) node.force_insert(entry.key, to_yaml(entry.value));
            return node;
        }
        case Value::Kind::sequence: {
            YAML::Node node(YAML::NodeType::Sequence);
            for (const Value& item : value.items) node.push_back(to_yaml(item));
            return node;
        }
    }
    return YAML::Node(YAML::NodeType::Null);
}

}  // namespace kerberus::config::detail
