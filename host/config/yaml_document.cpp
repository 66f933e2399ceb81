#include "config/yaml_document.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/parser.h>

namespace kerberus::config::detail {
namespace {

// Configuration and secret files are small; the cap stops a mistaken
// "$file: /dev/zero" from eating the machine.
constexpr std::size_t kMaxFileSize = 64 * 1024 * 1024;

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

Value parse_document(const std::string& text, const std::string& file, const DocumentLimits& limits) {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentBuilder builder(file, text, limits);
    try {
        // Ends: a document either consumes input or the builder throws.
        while (parser.HandleNextDocument(builder)) {
        }
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp 0.7 gives this one the message "bad file".
        throw ConfigError(location(file, e.mark), "", "YAML syntax error: nested too deeply");
    } catch (const YAML::Exception& e) {
        throw ConfigError(location(file, e.mark), "", "YAML syntax error: " + e.msg);
    }
    return builder.document();
}

YAML::Node to_yaml(const Value& value) {
    switch (value.kind) {
        case Value::Kind::null:
            return YAML::Node(YAML::NodeType::Null);
        case Value::Kind::scalar: {
            YAML::Node node(value.text);
            // A substituted value ($file, $env, ${VAR}) may be a secret:
            // the tag carries that on, for redaction (plugin_namespace.h).
            if (value.source.empty()) node.SetTag(value.plain ? "?" : "!");
            else node.SetTag(value.plain ? kPlainSecretTag : kQuotedSecretTag);
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
