#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "config/plugin_namespace.h"
#include "config/yaml_document.h"

namespace kerberus::config {
namespace {

PluginNamespace from_yaml(const std::string& text) { return PluginNamespace(YAML::Load(text)); }

const char* const kSettings = R"(
greeting: Hello
count: 42
negative: -7
big: 9223372036854775807
too_big: 9223372036854775808
ratio: 1.5
exp: 2e3
quoted_number: "42"
quoted_bool: 'true'
flag_yes: YES
flag_off: off
flag_true: True
nothing: ~
empty:
text_null: "null"
inf: .inf
list:
  - 10
  - x: first
  - [a, b]
nested:
  deep:
    value: 3
)";

TEST(PluginNamespaceTest, Strings) {
    PluginNamespace ns = from_yaml(kSettings);
    std::string_view out;
    EXPECT_EQ(ns.get_string("greeting", out), LookupResult::ok);
    EXPECT_EQ(out, "Hello");
    EXPECT_EQ(ns.get_string("count", out), LookupResult::ok);
    EXPECT_EQ(out, "42");
    EXPECT_EQ(ns.get_string("quoted_number", out), LookupResult::ok);
    EXPECT_EQ(out, "42");
    EXPECT_EQ(ns.get_string("text_null", out), LookupResult::ok);
    EXPECT_EQ(out, "null");
    EXPECT_EQ(ns.get_string("list.1.x", out), LookupResult::ok);
    EXPECT_EQ(out, "first");
    EXPECT_EQ(ns.get_string("list.2.1", out), LookupResult::ok);
    EXPECT_EQ(out, "b");
    EXPECT_EQ(ns.get_string("nested", out), LookupResult::wrong_type);
    EXPECT_EQ(ns.get_string("list", out), LookupResult::wrong_type);
}

TEST(PluginNamespaceTest, NotFound) {
    PluginNamespace ns = from_yaml(kSettings);
    std::string_view out = "unchanged";
    for (const char* key :
         {"", "missing", "nested.missing", "nested.deep.value.more", "greeting.x", "list.3", "list.-1", "list.x",
          "list.01x", "nested..deep", ".greeting", "greeting.", "nothing", "empty", "nothing.x"}) {
        EXPECT_EQ(ns.get_string(key, out), LookupResult::not_found) << key;
    }
    EXPECT_EQ(out, "unchanged");
}

TEST(PluginNamespaceTest, Integers) {
    PluginNamespace ns = from_yaml(kSettings);
    int64_t out = 0;
    EXPECT_EQ(ns.get_int("count", out), LookupResult::ok);
    EXPECT_EQ(out, 42);
    EXPECT_EQ(ns.get_int("negative", out), LookupResult::ok);
    EXPECT_EQ(out, -7);
    EXPECT_EQ(ns.get_int("big", out), LookupResult::ok);
    EXPECT_EQ(out, INT64_MAX);
    EXPECT_EQ(ns.get_int("list.0", out), LookupResult::ok);
    EXPECT_EQ(out, 10);
    EXPECT_EQ(ns.get_int("nested.deep.value", out), LookupResult::ok);
    EXPECT_EQ(out, 3);
    out = 5;
    for (const char* key : {"too_big", "ratio", "exp", "greeting", "quoted_number", "nested", "list"}) {
        EXPECT_EQ(ns.get_int(key, out), LookupResult::wrong_type) << key;
    }
    EXPECT_EQ(out, 5);
    EXPECT_EQ(ns.get_int("missing", out), LookupResult::not_found);
}

TEST(PluginNamespaceTest, Doubles) {
    PluginNamespace ns = from_yaml(kSettings);
    double out = 0;
    EXPECT_EQ(ns.get_double("ratio", out), LookupResult::ok);
    EXPECT_DOUBLE_EQ(out, 1.5);
    EXPECT_EQ(ns.get_double("exp", out), LookupResult::ok);
    EXPECT_DOUBLE_EQ(out, 2000);
    EXPECT_EQ(ns.get_double("count", out), LookupResult::ok);
    EXPECT_DOUBLE_EQ(out, 42);
    EXPECT_EQ(ns.get_double("too_big", out), LookupResult::ok);
    EXPECT_DOUBLE_EQ(out, 9223372036854775808.0);
    for (const char* key : {"inf", "greeting", "quoted_number", "list"}) {
        EXPECT_EQ(ns.get_double(key, out), LookupResult::wrong_type) << key;
    }
}

TEST(PluginNamespaceTest, Booleans) {
    PluginNamespace ns = from_yaml(kSettings);
    bool out = false;
    EXPECT_EQ(ns.get_bool("flag_yes", out), LookupResult::ok);
    EXPECT_TRUE(out);
    EXPECT_EQ(ns.get_bool("flag_off", out), LookupResult::ok);
    EXPECT_FALSE(out);
    EXPECT_EQ(ns.get_bool("flag_true", out), LookupResult::ok);
    EXPECT_TRUE(out);
    for (const char* key : {"quoted_bool", "count", "greeting", "nested"}) {
        EXPECT_EQ(ns.get_bool(key, out), LookupResult::wrong_type) << key;
    }
}

TEST(PluginNamespaceTest, Json) {
    PluginNamespace ns = from_yaml(kSettings);
    EXPECT_EQ(ns.json(), R"({"greeting":"Hello","count":42,"negative":-7,"big":9223372036854775807,)"
                         R"("too_big":9223372036854776000.0,"ratio":1.5,"exp":2000.0,"quoted_number":"42",)"
                         R"("quoted_bool":"true","flag_yes":"YES","flag_off":"off","flag_true":true,"nothing":null,)"
                         R"("empty":null,"text_null":"null","inf":".inf","list":[10,{"x":"first"},["a","b"]],)"
                         R"("nested":{"deep":{"value":3}}})");
}

TEST(PluginNamespaceTest, JsonEscapesAndOtherRoots) {
    EXPECT_EQ(from_yaml("s: \"quote\\\" back\\\\ nl\\n tab\\t\"\nblock: |\n  two\n  lines\n").json(),
              R"({"s":"quote\" back\\ nl\n tab\t","block":"two\nlines\n"})");
    EXPECT_EQ(from_yaml("[1, two, {}]").json(), R"([1,"two",{}])");
    EXPECT_EQ(from_yaml("{}").json(), "{}");
    EXPECT_EQ(from_yaml("plain").json(), R"("plain")");
}

TEST(PluginNamespaceTest, EmptyNamespaces) {
    for (const PluginNamespace& ns :
         {PluginNamespace(YAML::Node()), PluginNamespace(YAML::Load("")), PluginNamespace(YAML::Load("~")),
          PluginNamespace(YAML::Node(YAML::NodeType::Undefined))}) {
        EXPECT_EQ(ns.json(), "{}");
        std::string_view out;
        EXPECT_EQ(ns.get_string("a", out), LookupResult::not_found);
    }
}

TEST(PluginNamespaceTest, NodesBuiltInCodeArePlain) {
    YAML::Node node;
    node["n"] = 5;
    node["s"] = "text";
    PluginNamespace ns(node);
    int64_t n = 0;
    EXPECT_EQ(ns.get_int("n", n), LookupResult::ok);
    EXPECT_EQ(n, 5);
    EXPECT_EQ(ns.json(), R"({"n":5,"s":"text"})");
}

TEST(PluginNamespaceTest, FirstOfDuplicateKeysWins) {
    PluginNamespace ns = from_yaml("a: 1\na: 2\n");
    int64_t out = 0;
    EXPECT_EQ(ns.get_int("a", out), LookupResult::ok);
    EXPECT_EQ(out, 1);
    EXPECT_EQ(ns.json(), R"({"a":1})");
}

TEST(PluginNamespaceTest, RecursiveAliasIsRejected) {
    EXPECT_THROW(from_yaml("a: &x [1, *x]\n"), std::invalid_argument);
}

TEST(PluginNamespaceTest, IndependentOfTheSourceNode) {
    YAML::Node node = YAML::Load("a: before\n");
    PluginNamespace ns(node);
    node["a"] = "after";
    node["b"] = "added";
    std::string_view out;
    EXPECT_EQ(ns.get_string("a", out), LookupResult::ok);
    EXPECT_EQ(out, "before");
    EXPECT_EQ(ns.get_string("b", out), LookupResult::not_found);
}

TEST(PluginNamespaceTest, StringsOutliveMovesAndCopies) {
    auto ns = std::make_unique<PluginNamespace>(from_yaml("short: ab\n"));
    std::string_view out;
    ASSERT_EQ(ns->get_string("short", out), LookupResult::ok);
    PluginNamespace copy = *ns;
    PluginNamespace moved = std::move(*ns);
    ns.reset();
    EXPECT_EQ(out, "ab");
}

TEST(PluginNamespaceTest, ConcurrentReaders) {
    PluginNamespace ns = from_yaml(kSettings);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                int64_t n = 0;
                std::string_view s;
                if (ns.get_int("nested.deep.value", n) != LookupResult::ok || n != 3) ++failures;
                if (ns.get_string("list.1.x", s) != LookupResult::ok || s != "first") ++failures;
                if (ns.get_string("missing.key", s) != LookupResult::not_found) ++failures;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
}

// What people may read of a namespace: substituted values and everything
// under credential-like keys are redacted, the rest and the shape stay.
TEST(PluginNamespaceTest, RedactedJsonHidesSubstitutedValuesAndCredentials) {
    YAML::Node settings = YAML::Load(R"(
greeting: Hello
port: 8080
db: { host: db.local, Password: hunter2, user: app }
apiKey: abc
tokens: [one, two]
headers: { Authorization: Bearer x, Accept: json }
)");
    YAML::Node secret("s3cr3t");
    secret.SetTag(detail::kQuotedSecretTag);
    settings["from_file"] = secret;
    YAML::Node typed_secret("9000");
    typed_secret.SetTag(detail::kPlainSecretTag);
    settings["from_env"] = typed_secret;

    PluginNamespace ns(settings);
    EXPECT_EQ(ns.redacted_json(),
              R"({"greeting":"Hello","port":8080,"db":{"host":"db.local","Password":"[redacted]","user":"app"},)"
              R"("apiKey":"[redacted]","tokens":["[redacted]","[redacted]"],)"
              R"("headers":{"Authorization":"[redacted]","Accept":"json"},"from_file":"[redacted]","from_env":"[redacted]"})");
    // The plugin itself still reads every value, typed as written.
    int64_t port = 0;
    EXPECT_EQ(ns.get_int("from_env", port), LookupResult::ok);
    EXPECT_EQ(port, 9000);
    std::string_view text;
    EXPECT_EQ(ns.get_string("from_file", text), LookupResult::ok);
    EXPECT_EQ(text, "s3cr3t");
    EXPECT_NE(ns.json().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace kerberus::config
