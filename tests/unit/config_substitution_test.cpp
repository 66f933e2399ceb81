#include <gtest/gtest.h>

#include "config/config.h"
#include "config/plugin_namespace.h"
#include "config_test_support.h"

namespace kerberus::config::testing {
namespace {

using namespace std::chrono_literals;

class ConfigSubstitutionTest : public ConfigTest {
protected:
    // The JSON of plugin p's settings after loading `config_yaml` (written
    // under plugins.p.config) with `env`.
    std::string settings(const std::string& config_yaml, const Environment& env) {
        std::string file = write("a.yaml", "plugins:\n  p:\n    config:\n" + config_yaml);
        return PluginNamespace(load({file}, env).plugins.at("p").settings).json();
    }
};

TEST_F(ConfigSubstitutionTest, VariableInsideAString) {
    Environment env = environment({{"HOST", "db"}, {"PORT", "5432"}});
    EXPECT_EQ(settings("      url: \"postgres://${HOST}:${PORT}/x\"\n", env), R"({"url":"postgres://db:5432/x"})");
}

TEST_F(ConfigSubstitutionTest, DefaultWhenUnsetOrEmpty) {
    Environment env = environment({{"EMPTY", ""}, {"SET", "yes-set"}});
    EXPECT_EQ(settings("      a: ${UNSET:-fallback}\n"
                       "      b: ${EMPTY:-fallback}\n"
                       "      c: ${SET:-fallback}\n"
                       "      d: \"[${UNSET:-}]\"\n"
                       "      e: ${EMPTY}\n",
                       env),
              R"({"a":"fallback","b":"fallback","c":"yes-set","d":"[]","e":null})");
}

TEST_F(ConfigSubstitutionTest, DoubleDollarEscapes) {
    Environment env = environment({{"X", "x"}});
    EXPECT_EQ(settings("      a: \"$${X}\"\n"
                       "      b: $${X} and ${X}\n"
                       "      c: cost $5 and $$ {}\n",
                       env),
              R"({"a":"${X}","b":"${X} and x","c":"cost $5 and $$ {}"})");
}

TEST_F(ConfigSubstitutionTest, PlainScalarKeepsItsTypingQuotedStaysAString) {
    Environment env = environment({{"N", "4"}, {"B", "true"}, {"F", "1.5"}, {"Z", "~"}});
    EXPECT_EQ(settings("      n: ${N}\n"
                       "      qn: \"${N}\"\n"
                       "      b: ${B}\n"
                       "      f: ${F}\n"
                       "      z: ${Z}\n"
                       "      qz: '${Z}'\n",
                       env),
              R"({"n":4,"qn":"4","b":true,"f":1.5,"z":null,"qz":"~"})");
    std::string file = write("b.yaml", "server:\n  workers: ${N}\n  request_timeout: ${T:-5s}\n");
    Config config = load({file}, env);
    EXPECT_EQ(config.server.workers, 4u);
    EXPECT_EQ(config.server.request_timeout, 5s);
}

TEST_F(ConfigSubstitutionTest, KeysAreNotSubstituted) {
    EXPECT_EQ(settings("      ${K}: v\n", environment({{"K", "k"}})), R"({"${K}":"v"})");
}

TEST_F(ConfigSubstitutionTest, SubstitutesInsideLists) {
    // Block style: in flow style YAML itself ends a plain ${V} at the "}".
    EXPECT_EQ(settings("      l:\n        - a\n        - \"${V}\"\n        - k: ${V}\n", environment({{"V", "7"}})),
              R"({"l":["a","7",{"k":7}]})");
}

TEST_F(ConfigSubstitutionTest, EnvDirective) {
    Environment env = environment({{"USER_NAME", "alice"}, {"COUNT", "12"}});
    EXPECT_EQ(settings("      user:\n        $env: USER_NAME\n      count: { $env: COUNT }\n", env),
              R"({"user":"alice","count":12})");
}

TEST_F(ConfigSubstitutionTest, FileDirectiveStripsOneTrailingNewline) {
    write("secrets/lf.txt", "line1\nline2\n\n");
    write("secrets/crlf.txt", "token\r\n");
    write("secrets/none.txt", "42");
    EXPECT_EQ(settings("      lf: { $file: secrets/lf.txt }\n"
                       "      crlf: { $file: secrets/crlf.txt }\n"
                       "      none: { $file: secrets/none.txt }\n",
                       environment({})),
              R"({"lf":"line1\nline2\n","crlf":"token","none":"42"})");
}

TEST_F(ConfigSubstitutionTest, FileDirectivePathTakesVariables) {
    write("secrets/t.txt", "tok\n");
    EXPECT_EQ(settings("      t: { $file: \"${DIR}/t.txt\" }\n", environment({{"DIR", "secrets"}})), R"({"t":"tok"})");
    std::string absolute = write("abs.txt", "abs\n");
    EXPECT_EQ(settings("      t: { $file: " + absolute + " }\n", environment({})), R"({"t":"abs"})");
}

TEST_F(ConfigSubstitutionTest, IncludeFixture) {
    Config config = load({fixture("include/main.yaml")}, environment({{"WORKERS", "6"}, {"HELLO_USER", "alice"}}));
    EXPECT_EQ(config.server.workers, 6u);
    EXPECT_EQ(config.server.listen_port, 7007);
    EXPECT_EQ(PluginNamespace(config.plugins.at("hello").settings).json(),
              R"({"token":"s3cret","user":"alice","db":{"host":"db.internal","password":"hunter2"}})");
}

TEST_F(ConfigSubstitutionTest, IncludeAtTopLevelAndEmptyInclude) {
    write("conf.d/main.yaml", "server:\n  workers: 9\n");
    write("conf.d/empty.yaml", "");
    std::string top = write("top.yaml", "$include: conf.d/main.yaml\n");
    EXPECT_EQ(load({top}, environment({})).server.workers, 9u);
    std::string empty = write("e.yaml", "logging: { $include: conf.d/empty.yaml }\n");
    EXPECT_EQ(load({empty}, environment({})).log.level, "info");
}

TEST_F(ConfigSubstitutionTest, ErrorsInsideAnIncludeNameTheIncludedFile) {
    std::string part = write("parts/server.yaml", "listen: 127.0.0.1:1\nworkers: lots\n");
    std::string main = write("main.yaml", "server:\n  $include: parts/server.yaml\n");
    EXPECT_EQ(load_error({main}), part + ":2:10: server.workers: expected an integer from 1 to 256, got \"lots\"");
    write("parts/sub.yaml", "a: ${NOPE}\n");
    std::string main2 = write("main2.yaml", "plugins:\n  p:\n    config: { $include: parts/sub.yaml }\n");
    EXPECT_EQ(load_error({main2}),
              path("parts/sub.yaml") + ":1:4: plugins.p.config.a: environment variable NOPE is not set");
}

TEST_F(ConfigSubstitutionTest, NestedIncludesResolveRelativeToTheirOwnFile) {
    write("a/b/leaf.yaml", "x: 1\n");
    write("a/mid.yaml", "leaf: { $include: b/leaf.yaml }\n");
    EXPECT_EQ(settings("      m: { $include: a/mid.yaml }\n", environment({})), R"({"m":{"leaf":{"x":1}}})");
}

// Secrets reach the config only through substitution; an error about a
// substituted value says where it came from and never what it is.
TEST_F(ConfigSubstitutionTest, SubstitutedValuesAreNotShownInErrors) {
    std::string a = write("a.yaml", "server:\n  workers: ${W}\n");
    EXPECT_EQ(load_error({a}, environment({{"W", "hunter2"}})),
              a + ":2:12: server.workers: expected an integer from 1 to 256, got the value of ${W} (not shown)");

    write("secret.txt", "hunter2\n");
    std::string b = write("b.yaml", "logging:\n  level: { $file: secret.txt }\n");
    EXPECT_EQ(load_error({b}), b +
                                   ":2:10: logging.level: expected one of trace, debug, info, warn, error, critical, "
                                   "off, got the value of $file: " +
                                   path("secret.txt") + " (not shown)");

    std::string c = write("c.yaml", "plugins:\n  p:\n    version: { $env: V }\n");
    EXPECT_EQ(load_error({c}, environment({{"V", "hunter2"}})),
              c + ":3:14: plugins.p.version: expected a version constraint such as ^1.2, got the value of $env: V "
                  "(not shown)");

    std::string d = write("d.yaml", "server:\n  listen: \"${H}:99999\"\n");
    std::string error = load_error({d}, environment({{"H", "hunter2"}}));
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST_F(ConfigSubstitutionTest, UnsetVariable) {
    std::string f = fixture("broken/unset_variable.yaml");
    EXPECT_EQ(load_error({f}), f + ":4:14: plugins.hello.config.token: environment variable API_TOKEN is not set");
}

TEST_F(ConfigSubstitutionTest, MalformedReferences) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      a: \"x ${OPEN\"\n");
    EXPECT_EQ(load_error({a}), a + ":4:10: plugins.p.config.a: unterminated ${ (write $${ for a literal ${)");
    std::string b = write("b.yaml", "plugins:\n  p:\n    config:\n      - ${1BAD}\n");
    EXPECT_EQ(load_error({b}), b + ":4:9: plugins.p.config[0]: invalid variable reference ${1BAD}");
    std::string c = write("c.yaml", "plugins:\n  p:\n    config:\n      a: ${}\n");
    EXPECT_EQ(load_error({c}), c + ":4:10: plugins.p.config.a: invalid variable reference ${}");
    std::string d = write("d.yaml", "plugins:\n  p:\n    config:\n      a: ${A:-${B}}\n");
    EXPECT_EQ(load_error({d}), d + ":4:10: plugins.p.config.a: a default cannot hold another ${...} reference");
}

TEST_F(ConfigSubstitutionTest, EnvDirectiveErrors) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      u:\n        $env: NOPE\n");
    EXPECT_EQ(load_error({a}), a + ":5:9: plugins.p.config.u: environment variable NOPE is not set");
    std::string b = write("b.yaml", "plugins:\n  p:\n    config:\n      u: { $env: [X] }\n");
    EXPECT_EQ(load_error({b}), b + ":4:18: plugins.p.config.u: $env expects a variable name, got a list");
    std::string c = write("c.yaml", "plugins:\n  p:\n    config:\n      u: { $env: not-a-name }\n");
    EXPECT_EQ(load_error({c}), c + ":4:10: plugins.p.config.u: invalid variable name \"not-a-name\"");
}

TEST_F(ConfigSubstitutionTest, FileDirectiveErrors) {
    std::string f = fixture("broken/missing_file_ref.yaml");
    EXPECT_EQ(load_error({f}), f + ":4:12: plugins.hello.config.key: cannot read " + fixture("broken/missing.txt") +
                                   ": No such file or directory");
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      k:\n        $file:\n");
    EXPECT_EQ(load_error({a}), a + ":5:9: plugins.p.config.k: $file expects a file path, got nothing");
}

TEST_F(ConfigSubstitutionTest, DirectiveMustBeAlone) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      k:\n        other: 1\n        $file: x.txt\n");
    EXPECT_EQ(load_error({a}), a + ":6:9: plugins.p.config.k.$file: $file must be the only key in its map");
}

TEST_F(ConfigSubstitutionTest, IncludeErrors) {
    std::string a = fixture("broken/include_cycle_a.yaml");
    std::string b = fixture("broken/include_cycle_b.yaml");
    EXPECT_EQ(load_error({a}), b + ":3:5: plugins.hello.config: $include cycle: " + a + " -> " + b + " -> " + a);

    std::string self = write("self.yaml", "plugins: { $include: ./self.yaml }\n");
    EXPECT_EQ(load_error({self}), self + ":1:10: plugins: $include cycle: " + self + " -> " + path("./self.yaml"));

    std::string missing = write("m.yaml", "\nserver: { $include: nowhere.yaml }\n");
    EXPECT_EQ(load_error({missing}),
              missing + ":2:9: server: cannot read " + path("nowhere.yaml") + ": No such file or directory");

    write("broken.yaml", "a: [1\n");
    std::string syntax = write("s.yaml", "server: { $include: broken.yaml }\n");
    EXPECT_EQ(load_error({syntax}), path("broken.yaml") + ":2:1: YAML syntax error: end of sequence flow not found");
}

TEST_F(ConfigSubstitutionTest, SameFileIncludedTwiceIsNoCycle) {
    write("common.yaml", "x: 1\n");
    EXPECT_EQ(settings("      a: { $include: common.yaml }\n      b: { $include: common.yaml }\n", environment({})),
              R"({"a":{"x":1},"b":{"x":1}})");
}

}  // namespace
}  // namespace kerberus::config::testing
