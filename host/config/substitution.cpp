#include "config/substitution.h"

#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "config/scalar_syntax.h"
#include "config/yaml_document.h"

namespace kerberus::config::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEnvKey = "$env";
constexpr std::string_view kFileKey = "$file";
constexpr std::string_view kIncludeKey = "$include";

bool is_directive(std::string_view key) { return key == kEnvKey || key == kFileKey || key == kIncludeKey; }

bool is_variable_name(std::string_view name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

struct Expansion {
    std::string text;
    bool referenced_variable = false;
};

// Expands "${...}" references and "$${" escapes; throws at `where`.
Expansion expand(const std::string& text, const Environment& env, const Location& where, const std::string& path) {
    Expansion out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 3, "$${") == 0) {
            out.text += "${";
            i += 3;
            continue;
        }
        if (text.compare(i, 2, "${") != 0) {
            out.text += text[i++];
            continue;
        }
        std::size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
            throw ConfigError(where, path, "unterminated ${ (write $${ for a literal ${)");
        }
        std::string_view reference(text.data() + i + 2, close - i - 2);
        std::size_t dash = reference.find(":-");
        std::string_view name = reference.substr(0, dash);
        if (!is_variable_name(name)) {
            throw ConfigError(where, path, "invalid variable reference ${" + std::string(reference) + "}");
        }
        std::optional<std::string_view> fallback;
        if (dash != std::string_view::npos) {
            fallback = reference.substr(dash + 2);
            if (fallback->find("${") != std::string_view::npos) {
                throw ConfigError(where, path, "a default cannot hold another ${...} reference");
            }
        }
        std::optional<std::string> value = env(std::string(name));
        if (value && !(fallback && value->empty())) {
            out.text += *value;
        } else if (fallback) {
            out.text += *fallback;
        } else {
            throw ConfigError(where, path, "environment variable " + std::string(name) + " is not set");
        }
        out.referenced_variable = true;
        i = close + 1;
    }
    return out;
}

Value replacement(const Location& where, std::string text, bool plain, std::string source) {
    Value value;
    value.kind = plain && is_null_text(text) ? Value::Kind::null : Value::Kind::scalar;
    value.text = std::move(text);
    value.plain = plain;
    value.where = where;
    value.source = std::move(source);
    return value;
}

class Substituter {
public:
    Substituter(const Environment& env, const std::string& file) : env_(env) { stack_.push_back(frame(file)); }

    void walk(Value& value, const std::string& path) {
        switch (value.kind) {
            case Value::Kind::scalar:
                substitute_scalar(value, path);
                break;
            case Value::Kind::sequence:
                for (std::size_t i = 0; i < value.items.size(); ++i) walk(value.items[i], element_path(path, i));
                break;
            case Value::Kind::map:
                if (value.entries.size() == 1 && is_directive(value.entries.front().key)) {
                    apply_directive(value, path);
                    break;
                }
                for (Entry& entry : value.entries) {
                    if (is_directive(entry.key)) {
                        throw ConfigError(entry.key_where, child_path(path, entry.key),
                                          entry.key + " must be the only key in its map");
                    }
                    walk(entry.value, child_path(path, entry.key));
                }
                break;
            case Value::Kind::null:
                break;
        }
    }

private:
    struct Frame {
        fs::path identity;  // canonical where possible, to see a cycle through any spelling
        std::string label;  // as errors name the file
    };

    static Frame frame(const std::string& file) {
        std::error_code ec;
        fs::path canonical = fs::weakly_canonical(file, ec);
        return {ec ? fs::path(file) : canonical, file};
    }

    void substitute_scalar(Value& value, const std::string& path) {
        Expansion expanded = expand(value.text, env_, value.where, path);
        if (!expanded.referenced_variable) {
            value.text = std::move(expanded.text);
            return;
        }
        value.source = value.text;
        value.text = std::move(expanded.text);
        if (value.plain && is_null_text(value.text)) value.kind = Value::Kind::null;
    }

    // The directive's argument: a non-empty scalar, itself expanded.
    std::string argument(const Entry& entry, const std::string& path, const char* expected) {
        const Value& arg = entry.value;
        if (arg.kind != Value::Kind::scalar || arg.text.empty()) {
            throw ConfigError(arg.kind == Value::Kind::null ? entry.key_where : arg.where, path,
                              entry.key + " expects " + expected + ", got " + describe(arg));
        }
        return expand(arg.text, env_, arg.where, path).text;
    }

    static std::string resolve(const Location& written_in, const std::string& relative) {
        fs::path target(relative);
        if (target.is_absolute()) return relative;
        return (fs::path(written_in.file).parent_path() / target).string();
    }

    void apply_directive(Value& value, const std::string& path) {
        const Entry& entry = value.entries.front();
        Location where = value.where;
        if (entry.key == kEnvKey) {
            std::string name = argument(entry, path, "a variable name");
            if (!is_variable_name(name)) throw ConfigError(where, path, "invalid variable name \"" + name + "\"");
            std::optional<std::string> text = env_(name);
            if (!text) throw ConfigError(where, path, "environment variable " + name + " is not set");
            value = replacement(where, std::move(*text), true, "$env: " + name);
        } else if (entry.key == kFileKey) {
            std::string file = resolve(entry.value.where, argument(entry, path, "a file path"));
            std::string error;
            std::optional<std::string> text = read_file(file, &error);
            if (!text) throw ConfigError(where, path, "cannot read " + file + ": " + error);
            if (text->ends_with("\r\n")) {
                text->resize(text->size() - 2);
            } else if (text->ends_with('\n')) {
                text->pop_back();
            }
            value = replacement(where, std::move(*text), false, "$file: " + file);
        } else {
            include(value, path, resolve(entry.value.where, argument(entry, path, "a YAML file path")));
        }
    }

    void include(Value& value, const std::string& path, const std::string& file) {
        Location where = value.where;
        Frame next = frame(file);
        for (std::size_t i = 0; i < stack_.size(); ++i) {
            if (stack_[i].identity != next.identity) continue;
            std::string chain;
            for (std::size_t j = i; j < stack_.size(); ++j) chain += stack_[j].label + " -> ";
            throw ConfigError(where, path, "$include cycle: " + chain + file);
        }
        std::string error;
        std::optional<std::string> text = read_file(file, &error);
        if (!text) throw ConfigError(where, path, "cannot read " + file + ": " + error);
        Value included = parse_document(*text, file);
        stack_.push_back(std::move(next));
        walk(included, path);
        stack_.pop_back();
        // An empty file has no position of its own; the $include line is the
        // best place to point at.
        if (included.kind == Value::Kind::null) included.where = where;
        value = std::move(included);
    }

    const Environment& env_;
    std::vector<Frame> stack_;
};

}  // namespace

void substitute(Value& document, const std::string& file, const Environment& env) {
    Substituter(env, file).walk(document, "");
}

}  // namespace kerberus::config::detail
