#include <cstdlib>

#include "config/config.h"
#include "config/merge.h"
#include "config/substitution.h"
#include "config/validate.h"
#include "config/yaml_document.h"

namespace kerberus::config {

Environment process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

Config load(const std::vector<std::string>& files, const Environment& env) {
    detail::Value merged;
    for (const std::string& file : files) {
        detail::Value document = detail::read_document(file);
        detail::substitute(document, file, env);
        // Checked per file: once merged, a scalar root would just replace the
        // earlier files and the error would lose its meaning.
        if (document.kind != detail::Value::Kind::null && document.kind != detail::Value::Kind::map) {
            throw ConfigError(document.where, "",
                              "expected a map of settings at the top level, got " + detail::describe(document));
        }
        detail::merge(merged, std::move(document));
    }
    Config config = detail::validate(merged);
    config.files = files;
    return config;
}

}  // namespace kerberus::config
