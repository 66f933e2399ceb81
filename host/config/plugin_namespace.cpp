#include "config/plugin_namespace.h"

#include <charconv>
#include <stdexcept>
#include <utility>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "config/scalar_syntax.h"
#include "config/yaml_document.h"

namespace kerberus::config {
namespace detail {

// An owned copy rather than YAML::Node: lookups run on many threads at once,
// and yaml-cpp neither documents its nodes as safe for that nor keeps
// operator[] from inserting.
struct NamespaceTree {
    enum class Kind { null, scalar, map, sequence };
    struct Member;

    Kind kind = Kind::null;
    std::string text;
    bool plain = true;
    bool secret = false;  // substituted ($file, $env, ${VAR}): never shown
    std::vector<Member> members;  // file order; the first of duplicate keys wins, as in yaml-cpp
    std::vector<NamespaceTree> items;
};

struct NamespaceTree::Member {
    std::string key;
    NamespaceTree value;
};

}  // namespace detail

namespace {

using Tree = detail::NamespaceTree;

class TreeBuilder {
public:
    Tree build(const YAML::Node& node) {
        Tree tree;
        switch (node.Type()) {
            case YAML::NodeType::Scalar:
                // Nodes built in code rather than parsed have no tag: plain.
                tree.plain = node.Tag() == "?" || node.Tag().empty() || node.Tag() == detail::kPlainSecretTag;
                tree.secret = node.Tag() == detail::kPlainSecretTag || node.Tag() == detail::kQuotedSecretTag;
                if (tree.plain && detail::is_null_text(node.Scalar())) break;
                tree.kind = Tree::Kind::scalar;
                tree.text = node.Scalar();
                break;
            case YAML::NodeType::Sequence:
                tree.kind = Tree::Kind::sequence;
                enter(node);
                for (const YAML::Node& item : node) tree.items.push_back(build(item));
                ancestors_.pop_back();
                break;
            case YAML::NodeType::Map:
                tree.kind = Tree::Kind::map;
                enter(node);
                for (const auto& pair : node) add_member(tree, pair.first, pair.second);
                ancestors_.pop_back();
                break;
            case YAML::NodeType::Null:
            case YAML::NodeType::Undefined:
                break;
        }
        return tree;
    }

private:
    // A recursive alias would otherwise recurse until the stack runs out.
    void enter(const YAML::Node& node) {
        for (const YAML::Node& ancestor : ancestors_) {
            if (ancestor.is(node))
                throw std::invalid_argument("plugin settings: an alias refers to a node that contains it");
        }
        ancestors_.push_back(node);
    }

    void add_member(Tree& map, const YAML::Node& key, const YAML::Node& value) {
        if (!key.IsScalar()) return;
        for (const Tree::Member& member : map.members) {
            if (member.key == key.Scalar()) return;
        }
        map.members.push_back({key.Scalar(), build(value)});
    }

    std::vector<YAML::Node> ancestors_;
};

const Tree* child(const Tree& parent, std::string_view segment) {
    if (segment.empty()) return nullptr;
    if (parent.kind == Tree::Kind::map) {
        for (const Tree::Member& member : parent.members) {
            if (member.key == segment) return &member.value;
        }
        return nullptr;
    }
    if (parent.kind == Tree::Kind::sequence) {
        std::size_t index = 0;
        auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
        if (ec != std::errc() || end != segment.data() + segment.size()) return nullptr;
        return index < parent.items.size() ? &parent.items[index] : nullptr;
    }
    return nullptr;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_scalar(Writer& writer, const Tree& tree) {
    const std::string& text = tree.text;
    if (!tree.plain) {
        writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    } else if (std::optional<bool> b = detail::parse_bool(text)) {
        writer.Bool(*b);
    } else if (std::optional<int64_t> i = detail::parse_int64(text)) {
        writer.Int64(*i);
    } else if (std::optional<double> d = detail::parse_double(text)) {
        writer.Double(*d);
    } else {
        writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    }
}

constexpr std::string_view kRedacted = "[redacted]";

// Keys whose values are credentials whatever wrote them (lower case).
bool names_a_credential(std::string_view key) {
    std::string lower;
    for (char c : key) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (std::string_view word : {"password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "credential",
                                  "private_key", "privatekey", "authorization", "cookie"}) {
        if (lower.find(word) != std::string::npos) return true;
    }
    return false;
}

// `redact`: secrets and everything under a credential's key are shown as
// "[redacted]" (the shape stays, the values go).
void write(Writer& writer, const Tree& tree, bool redact, bool under_credential = false) {
    switch (tree.kind) {
        case Tree::Kind::null:
            writer.Null();
            break;
        case Tree::Kind::scalar:
            if (redact && (tree.secret || under_credential)) {
                writer.String(kRedacted.data(), static_cast<rapidjson::SizeType>(kRedacted.size()));
            } else {
                write_scalar(writer, tree);
            }
            break;
        case Tree::Kind::map:
            writer.StartObject();
            for (const Tree::Member& member : tree.members) {
                writer.Key(member.key.data(), static_cast<rapidjson::SizeType>(member.key.size()));
                write(writer, member.value, redact, under_credential || (redact && names_a_credential(member.key)));
            }
            writer.EndObject();
            break;
        case Tree::Kind::sequence:
            writer.StartArray();
            for (const Tree& item : tree.items) write(writer, item, redact, under_credential);
            writer.EndArray();
            break;
    }
}

}  // namespace

PluginNamespace::PluginNamespace(YAML::Node settings)
    : root_(std::make_shared<const detail::NamespaceTree>(TreeBuilder().build(settings))) {
    if (root_->kind == Tree::Kind::null) {
        json_ = redacted_json_ = "{}";
        return;
    }
    for (bool redact : {false, true}) {
        rapidjson::StringBuffer buffer;
        Writer writer(buffer);
        write(writer, *root_, redact);
        (redact ? redacted_json_ : json_).assign(buffer.GetString(), buffer.GetSize());
    }
}

namespace {

// The scalar at `key`, or the reason there is none.
LookupResult find_scalar(const Tree& root, std::string_view key, const Tree*& out) {
    if (key.empty()) return LookupResult::not_found;
    const Tree* node = &root;
    while (node != nullptr) {
        std::size_t dot = key.find('.');
        node = child(*node, key.substr(0, dot));
        if (dot == std::string_view::npos) break;
        key.remove_prefix(dot + 1);
    }
    if (node == nullptr || node->kind == Tree::Kind::null) return LookupResult::not_found;
    if (node->kind != Tree::Kind::scalar) return LookupResult::wrong_type;
    out = node;
    return LookupResult::ok;
}

template <typename T, typename Parse>
LookupResult typed(const Tree& root, std::string_view key, T& out, Parse parse) {
    const Tree* node = nullptr;
    LookupResult result = find_scalar(root, key, node);
    if (result != LookupResult::ok) return result;
    if (!node->plain) return LookupResult::wrong_type;
    std::optional<T> value = parse(node->text);
    if (!value) return LookupResult::wrong_type;
    out = *value;
    return LookupResult::ok;
}

}  // namespace

LookupResult PluginNamespace::get_string(std::string_view key, std::string_view& out) const {
    const Tree* node = nullptr;
    LookupResult result = find_scalar(*root_, key, node);
    if (result == LookupResult::ok) out = node->text;
    return result;
}

LookupResult PluginNamespace::get_int(std::string_view key, int64_t& out) const {
    return typed(*root_, key, out, detail::parse_int64);
}

LookupResult PluginNamespace::get_double(std::string_view key, double& out) const {
    return typed(*root_, key, out, detail::parse_double);
}

LookupResult PluginNamespace::get_bool(std::string_view key, bool& out) const {
    return typed(*root_, key, out, detail::parse_bool_word);
}

}  // namespace kerberus::config
