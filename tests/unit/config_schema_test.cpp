// A plugin's settings against the JSON Schema it declares: each error names
// the position, the key path and what was wanted; defaults fill gaps;
// "visibility": "secret" redacts.
#include <gtest/gtest.h>

#include "config/plugin_namespace.h"
#include "config/schema.h"
#include "config_test_support.h"

namespace kerberus::config {
namespace {

using testing::ConfigTest;
using testing::environment;

const char* const kSchema = R"({
  "type": "object",
  "properties": {
    "greeting": {"type": "string", "default": "Hello"},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8080},
    "mode": {"enum": ["fast", "safe"]},
    "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
    "tags": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    "token": {"type": "string", "visibility": "secret"},
    "upstream": {
      "type": "object",
      "required": ["url"],
      "additionalProperties": false,
      "properties": {"url": {"type": "string"}, "retries": {"type": "integer", "default": 3}}
    }
  },
  "additionalProperties": false
})";

class ConfigSchemaTest : public ConfigTest {
protected:
    void SetUp() override {
        ConfigTest::SetUp();
        file_ = path("k.yaml");
    }

    // The settings of plugin "p" from a file holding `yaml` under plugins.p.config.
    PluginSettings settings(const std::string& yaml) {
        file_ = write("k.yaml", "plugins:\n  p:\n    config:\n" + yaml);
        return load({file_}, environment({{"TOKEN", "t0ken"}})).plugins.at("p");
    }
    std::string error(const std::string& yaml) {
        PluginSettings s = settings(yaml);
        try {
            apply_schema(s, kSchema, Location{file_, 0, 0});
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(accepted)";
    }
    std::string at(const std::string& rest) const { return file_ + ":" + rest; }
    std::string file_;
};

TEST_F(ConfigSchemaTest, ErrorsNamePositionKeyPathAndWhatWasWanted) {
    const std::string tail = " (the plugin's config schema)";
    EXPECT_EQ(error("      greeting: [a]\n"), at("4:17: plugins.p.config.greeting: expected a string, got a list" + tail));
    EXPECT_EQ(error("      port: 0\n"), at("4:13: plugins.p.config.port: must be at least 1" + tail));
    EXPECT_EQ(error("      port: 70000\n"), at("4:13: plugins.p.config.port: must be at most 65535" + tail));
    EXPECT_EQ(error("      port: \"80\"\n"), at("4:13: plugins.p.config.port: expected an integer, got a string" + tail));
    EXPECT_EQ(error("      mode: slow\n"), at("4:13: plugins.p.config.mode: expected one of \"fast\", \"safe\"" + tail));
    EXPECT_EQ(error("      name: a\n"), at("4:13: plugins.p.config.name: must be at least 2 characters long" + tail));
    EXPECT_EQ(error("      name: abcdef\n"), at("4:13: plugins.p.config.name: must be at most 5 characters long" + tail));
    EXPECT_EQ(error("      name: AB\n"), at("4:13: plugins.p.config.name: must match the pattern \"^[a-z]+$\"" + tail));
    EXPECT_EQ(error("      tags: []\n"), at("4:13: plugins.p.config.tags: needs at least 1 items" + tail));
    EXPECT_EQ(error("      tags: [a, 1]\n"), at("4:17: plugins.p.config.tags[1]: expected a string, got an integer" + tail));
    EXPECT_EQ(error("      greting: Hi\n"),
              at("4:7: plugins.p.config.greting: unknown key \"greting\" (expected one of: greeting, port, mode, name, "
                 "tags, token, upstream)" + tail));
    EXPECT_EQ(error("      upstream: { retries: 1 }\n"),
              at("4:17: plugins.p.config.upstream: missing required key \"url\"" + tail));
    EXPECT_EQ(error("      upstream: { url: x, extra: 1 }\n"),
              at("4:27: plugins.p.config.upstream.extra: unknown key \"extra\" (expected one of: url, retries)" + tail));
}

TEST_F(ConfigSchemaTest, AbsentSettingsAreCheckedTooAndPointAtTheFallback) {
    const char* required = R"({"type": "object", "required": ["url"]})";
    PluginSettings s;
    s.id = "p";
    try {
        apply_schema(s, required, Location{"/etc/kerberus/local.yaml", 0, 0});
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "/etc/kerberus/local.yaml: plugins.p.config: missing required key \"url\" (the plugin's config schema)");
    }
}

TEST_F(ConfigSchemaTest, DefaultsFillWhatTheSettingsLeaveOut) {
    PluginSettings s = settings("      upstream: { url: http://u }\n");
    apply_schema(s, kSchema, Location{file_, 0, 0});
    PluginNamespace ns(s.settings);
    EXPECT_EQ(ns.json(), R"({"upstream":{"url":"http://u","retries":3},"greeting":"Hello","port":8080})");
    int64_t port = 0;
    EXPECT_EQ(ns.get_int("port", port), LookupResult::ok);
    EXPECT_EQ(port, 8080);
    std::string_view greeting;
    EXPECT_EQ(ns.get_string("greeting", greeting), LookupResult::ok);
    EXPECT_EQ(greeting, "Hello");

    // Nothing written at all: the defaults alone.
    PluginSettings none;
    none.id = "p";
    apply_schema(none, kSchema, Location{file_, 0, 0});
    EXPECT_EQ(PluginNamespace(none.settings).json(), R"({"greeting":"Hello","port":8080})");
}

TEST_F(ConfigSchemaTest, SecretPropertiesAreRedactedWhateverWroteThem) {
    PluginSettings s = settings("      token: literal-secret\n      greeting: Hi\n");
    apply_schema(s, kSchema, Location{file_, 0, 0});
    PluginNamespace ns(s.settings);
    EXPECT_EQ(ns.redacted_json(), R"({"token":"[redacted]","greeting":"Hi","port":8080})");
    std::string_view token;
    EXPECT_EQ(ns.get_string("token", token), LookupResult::ok);
    EXPECT_EQ(token, "literal-secret");
}

TEST(ConfigSchema, UnusableSchemasAreNamed) {
    EXPECT_EQ(schema_problem(R"({"type": "object"})"), "");
    EXPECT_NE(schema_problem("{not json").find("its config schema is not JSON"), std::string::npos);
    EXPECT_EQ(schema_problem("[1]"), "its config schema is not a JSON object");
}

}  // namespace
}  // namespace kerberus::config
