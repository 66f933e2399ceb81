#include "config/schema.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "config/plugin_namespace.h"
#include "config/value.h"
#include "config/yaml_document.h"

namespace kerberus::config {
namespace {

using detail::Value;
using Json = rapidjson::Value;

constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag;

std::string text(const Json& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    v.Accept(w);
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string json_type(const Json& v) {
    if (v.IsNull()) return "null";
    if (v.IsBool()) return "a boolean";
    if (v.IsInt64() || v.IsUint64()) return "an integer";
    if (v.IsNumber()) return "a number";
    if (v.IsString()) return "a string";
    if (v.IsArray()) return "a list";
    return "a map";
}

std::string type_names(const Json& type) {
    auto one = [](std::string_view t) -> std::string {
        if (t == "object") return "a map";
        if (t == "array") return "a list";
        if (t == "integer") return "an integer";
        if (t == "boolean") return "a boolean";
        return "a " + std::string(t);
    };
    if (type.IsString()) return one(type.GetString());
    std::string out;
    if (type.IsArray()) {
        for (rapidjson::SizeType i = 0; i < type.Size(); ++i) {
            if (!type[i].IsString()) continue;
            out += (out.empty() ? "" : i + 1 == type.Size() ? " or " : ", ") + one(type[i].GetString());
        }
    }
    return out.empty() ? "another type" : out;
}

std::string number(const Json& v) { return v.IsNumber() ? text(v) : "?"; }

// The node a JSON pointer names in the loader's tree, or the deepest one
// that exists on the way there; its key path goes to `path`.
const Value* locate(const Value* root, const rapidjson::Pointer& pointer, std::string& path) {
    const Value* node = root;
    for (std::size_t i = 0; node != nullptr && i < pointer.GetTokenCount(); ++i) {
        const auto& token = pointer.GetTokens()[i];
        std::string_view name(token.name, token.length);
        if (node->kind == Value::Kind::map) {
            const detail::Entry* entry = node->find(name);
            if (entry == nullptr) break;
            path = detail::child_path(path, name);
            node = &entry->value;
        } else if (node->kind == Value::Kind::sequence && token.index != rapidjson::kPointerInvalidIndex &&
                   token.index < node->items.size()) {
            path = detail::element_path(path, token.index);
            node = &node->items[token.index];
        } else {
            break;
        }
    }
    return node;
}

// What the schema wanted, said as the other configuration errors say it.
// `key` is the unknown key of an additionalProperties error, and receives
// the missing one of a required error.
std::string wanted(std::string_view keyword, const Json& schema, const Json* instance, std::string& key) {
    auto member = [&](const char* name) -> const Json* {
        auto it = schema.FindMember(name);
        return it == schema.MemberEnd() ? nullptr : &it->value;
    };
    std::string got = instance ? json_type(*instance) : "nothing";
    if (keyword == "type") return "expected " + type_names(*member("type")) + ", got " + got;
    if (keyword == "enum") {
        std::string list;
        for (const auto& v : member("enum")->GetArray()) list += (list.empty() ? "" : ", ") + text(v);
        return "expected one of " + list;
    }
    if (keyword == "required" && instance && instance->IsObject()) {
        for (const auto& name : member("required")->GetArray()) {
            if (name.IsString() && !instance->HasMember(name)) {
                key = name.GetString();
                return "missing required key \"" + key + "\"";
            }
        }
    }
    if (keyword == "additionalProperties" && !key.empty()) {
        const Json* properties = member("properties");
        std::string known;
        if (properties && properties->IsObject()) {
            for (const auto& p : properties->GetObject()) known += (known.empty() ? "" : ", ") + std::string(p.name.GetString());
        }
        return "unknown key \"" + key + "\"" + (known.empty() ? "" : " (expected one of: " + known + ")");
    }
    bool exclusive = false;
    if (const Json* e = member(keyword == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum")) exclusive = e->IsTrue();
    if (keyword == "minimum") return std::string("must be ") + (exclusive ? "greater than " : "at least ") + number(*member("minimum"));
    if (keyword == "maximum") return std::string("must be ") + (exclusive ? "less than " : "at most ") + number(*member("maximum"));
    if (keyword == "multipleOf") return "must be a multiple of " + number(*member("multipleOf"));
    if (keyword == "minLength") return "must be at least " + number(*member("minLength")) + " characters long";
    if (keyword == "maxLength") return "must be at most " + number(*member("maxLength")) + " characters long";
    if (keyword == "pattern") return "must match the pattern " + text(*member("pattern"));
    if (keyword == "minItems") return "needs at least " + number(*member("minItems")) + " items";
    if (keyword == "maxItems") return "takes at most " + number(*member("maxItems")) + " items";
    if (keyword == "uniqueItems") return "items must all differ";
    if (keyword == "minProperties") return "needs at least " + number(*member("minProperties")) + " keys";
    if (keyword == "maxProperties") return "takes at most " + number(*member("maxProperties")) + " keys";
    if (keyword == "anyOf" || keyword == "oneOf") {
        return std::string("matches ") + (keyword == "oneOf" ? "not exactly one" : "none") + " of the forms the schema allows";
    }
    if (keyword == "not") return "is a value the schema forbids";
    return "does not satisfy the schema's \"" + std::string(keyword) + "\"";
}

// --- defaults and secrets, on the YAML the plugin reads ----------------------

YAML::Node yaml_of(const Json& v) {
    if (v.IsObject()) {
        YAML::Node map(YAML::NodeType::Map);
        for (const auto& m : v.GetObject()) map[m.name.GetString()] = yaml_of(m.value);
        return map;
    }
    if (v.IsArray()) {
        YAML::Node list(YAML::NodeType::Sequence);
        for (const auto& item : v.GetArray()) list.push_back(yaml_of(item));
        return list;
    }
    if (v.IsNull()) return YAML::Node(YAML::NodeType::Null);
    YAML::Node scalar(v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : text(v));
    // A string default stays a string; numbers and booleans keep their type.
    scalar.SetTag(v.IsString() ? "!" : "?");
    return scalar;
}

void mark_secret(YAML::Node node) {
    if (node.IsScalar()) {
        node.SetTag(node.Tag() == "!" || node.Tag() == detail::kQuotedSecretTag ? detail::kQuotedSecretTag
                                                                                : detail::kPlainSecretTag);
    } else if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it) mark_secret(it->second);
    } else if (node.IsSequence()) {
        for (auto item : node) mark_secret(item);
    }
}

void apply_defaults_and_secrets(YAML::Node node, const Json& schema) {
    if (!schema.IsObject() || !node.IsMap()) return;
    auto properties = schema.FindMember("properties");
    if (properties == schema.MemberEnd() || !properties->value.IsObject()) return;
    for (const auto& p : properties->value.GetObject()) {
        const char* key = p.name.GetString();
        const Json& sub = p.value;
        if (!sub.IsObject()) continue;
        auto fallback = sub.FindMember("default");
        if (!node[key] && fallback != sub.MemberEnd()) node[key] = yaml_of(fallback->value);
        if (!node[key]) continue;
        auto visibility = sub.FindMember("visibility");
        if (visibility != sub.MemberEnd() && visibility->value.IsString() &&
            std::string_view(visibility->value.GetString()) == "secret") {
            mark_secret(node[key]);
        }
        apply_defaults_and_secrets(node[key], sub);
    }
}

}  // namespace

std::string schema_problem(std::string_view schema_json) {
    rapidjson::Document schema;
    schema.Parse<kParseFlags>(schema_json.data(), schema_json.size());
    if (schema.HasParseError()) {
        return std::string("its config schema is not JSON: ") + rapidjson::GetParseError_En(schema.GetParseError()) +
               " at offset " + std::to_string(schema.GetErrorOffset());
    }
    if (!schema.IsObject()) return "its config schema is not a JSON object";
    return {};
}

void apply_schema(PluginSettings& settings, std::string_view schema_json, const Location& fallback) {
    rapidjson::Document schema;
    schema.Parse<kParseFlags>(schema_json.data(), schema_json.size());
    rapidjson::SchemaDocument compiled(schema);

    // The settings as the plugin would read them (typed like config_json).
    rapidjson::Document instance;
    instance.Parse<kParseFlags>(PluginNamespace(settings.settings).json().c_str());
    rapidjson::SchemaValidator validator(compiled);
    if (!instance.Accept(validator)) {
        std::string_view keyword = validator.GetInvalidSchemaKeyword();
        const rapidjson::Pointer& reported = validator.GetInvalidDocumentPointer();
        rapidjson::Pointer pointer = reported;
        // RapidJSON reports an unknown key at the key itself: the message
        // is about its map, which lists what was expected.
        std::string key;
        if (keyword == "additionalProperties" && pointer.GetTokenCount() > 0) {
            const auto& last = reported.GetTokens()[reported.GetTokenCount() - 1];
            key.assign(last.name, last.length);
            // Borrows reported's tokens, which outlive it.
            pointer = rapidjson::Pointer(reported.GetTokens(), reported.GetTokenCount() - 1);
        }
        std::string path = "plugins." + settings.id + ".config";
        const Value* node = locate(settings.tree.get(), pointer, path);
        const Json* at = pointer.Get(instance);
        const Json* schema_at = validator.GetInvalidSchemaPointer().Get(schema);
        std::string message = wanted(keyword, schema_at ? *schema_at : schema, at, key);
        Location where = node != nullptr ? node->where : fallback;
        if (!key.empty()) {
            // An unknown key is pointed at where it was written.
            if (node != nullptr && node->kind == Value::Kind::map) {
                if (const detail::Entry* entry = node->find(key)) {
                    where = entry->key_where;
                    path = detail::child_path(path, key);
                }
            }
        }
        if (where.file.empty()) where = fallback;
        throw ConfigError(where, path, message + " (the plugin's config schema)");
    }
    if (!settings.settings || settings.settings.IsNull()) settings.settings = YAML::Node(YAML::NodeType::Map);
    apply_defaults_and_secrets(settings.settings, schema);
}

}  // namespace kerberus::config
