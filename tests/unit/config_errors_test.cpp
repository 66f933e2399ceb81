#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_support.h"

namespace kerberus::config::testing {
namespace {

using ConfigErrorTest = ConfigTest;

const std::string kDuration = "expected a duration such as 250ms, 30s, 5m, 1h or a number of seconds, got ";
const std::string kSize = "expected a size in bytes, or with a unit B, KiB, MiB, GiB, KB, MB or GB, such as 1MiB, got ";
const std::string kListen = "expected host:port such as 127.0.0.1:7007 or [::1]:7007, got ";
const std::string kLevel = "expected one of trace, debug, info, warn, error, critical, off, got ";

std::string fixture_error(const std::string& name) {
    try {
        load({fixture("broken/" + name)}, environment({}));
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << name << " loaded without error";
    return {};
}

TEST_F(ConfigErrorTest, Fixtures) {
    auto at = [](const std::string& name, const std::string& rest) { return fixture("broken/" + name) + ":" + rest; };
    EXPECT_EQ(
        fixture_error("duplicate_key.yaml"),
        at("duplicate_key.yaml", "4:3: server.workers: duplicate key (first at ") + at("duplicate_key.yaml", "2:3)"));
    EXPECT_EQ(fixture_error("unknown_top_key.yaml"),
              at("unknown_top_key.yaml",
                 "3:1: plugin_dirs: unknown key (expected one of: server, logging, health, admin, auth, access_log, "
                  "plugin_trust, plugin_directories, plugins)"));
    EXPECT_EQ(fixture_error("unknown_plugin_key.yaml"),
              at("unknown_plugin_key.yaml",
                 "4:5: plugins.hello.settings: unknown key (expected one of: enabled, "
                 "version, required, log_level, sha256, auth, config)"));
    EXPECT_EQ(fixture_error("wrong_type_workers.yaml"),
              at("wrong_type_workers.yaml", "2:12: server.workers: expected an integer from 1 to 256, got \"abc\""));
    EXPECT_EQ(fixture_error("map_for_scalar.yaml"),
              at("map_for_scalar.yaml", "3:5: logging.level: " + kLevel + "a map"));
    EXPECT_EQ(fixture_error("bad_plugin_id.yaml"),
              at("bad_plugin_id.yaml",
                 "2:3: plugins.Hello_World: invalid plugin id (expected [a-z0-9][a-z0-9-]*, at most 64 characters)"));
    EXPECT_EQ(fixture_error("bad_directory.yaml"),
              at("bad_directory.yaml", "3:5: plugin_directories[1]: expected a directory path, got a map"));
    EXPECT_EQ(fixture_error("syntax_error.yaml"),
              at("syntax_error.yaml", "3:8: YAML syntax error: end of sequence flow not found"));
    EXPECT_EQ(fixture_error("two_documents.yaml"),
              at("two_documents.yaml", "3:1: a configuration file holds one YAML document, this is the second"));
    // The reason after the colon is the constraint parser's own.
    EXPECT_TRUE(
        fixture_error("bad_constraint.yaml")
            .starts_with(at("bad_constraint.yaml", "3:14: plugins.hello.version: invalid version constraint: ")));
}

TEST_F(ConfigErrorTest, DuplicateKeysAnywhere) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      list:\n        - {x: 1, y: 2, x: 3}\n");
    EXPECT_EQ(load_error({a}), a + ":5:24: plugins.p.config.list[0].x: duplicate key (first at " + a + ":5:12)");
    std::string b = write("b.yaml", "server: {}\nlogging: {}\nserver: {}\n");
    EXPECT_EQ(load_error({b}), b + ":3:1: server: duplicate key (first at " + b + ":1:1)");
    // Spelled differently, the same key still.
    std::string c = write("c.yaml", "plugins:\n  p:\n    config:\n      1: a\n      \"1\": b\n");
    EXPECT_EQ(load_error({c}), c + ":5:7: plugins.p.config.1: duplicate key (first at " + c + ":4:7)");
}

TEST_F(ConfigErrorTest, UnknownKeysInEachSection) {
    std::string a = write("a.yaml", "logging:\n  level: info\n  format: json\n");
    EXPECT_EQ(load_error({a}), a + ":3:3: logging.format: unknown key (expected one of: level)");
    // The plugin's own namespace is free-form.
    std::string b = write("b.yaml", "plugins:\n  p:\n    config:\n      anything: {goes: [here]}\n");
    EXPECT_NO_THROW(load({b}, environment({})));
}

TEST_F(ConfigErrorTest, SectionsOfTheWrongKind) {
    std::string a = write("a.yaml", "server: fast\n");
    EXPECT_EQ(load_error({a}), a + ":1:9: server: expected a map, got \"fast\"");
    std::string b = write("b.yaml", "plugins: [hello]\n");
    EXPECT_EQ(load_error({b}), b + ":1:10: plugins: expected a map of plugin ids to their settings, got a list");
    std::string c = write("c.yaml", "plugins:\n  hello: yes\n");
    EXPECT_EQ(load_error({c}), c + ":2:10: plugins.hello: expected a map, got \"yes\"");
    std::string d = write("d.yaml", "plugin_directories: /opt/plugins\n");
    EXPECT_EQ(load_error({d}),
              d + ":1:21: plugin_directories: expected a list of directory paths, got \"/opt/plugins\"");
    std::string e = write("e.yaml", "plugin_directories:\n  - \"\"\n");
    EXPECT_EQ(load_error({e}), e + ":2:5: plugin_directories[0]: expected a directory path, got \"\"");
}

TEST_F(ConfigErrorTest, Workers) {
    for (const char* bad : {"0", "257", "-1", "1.5", "4x", "99999999999999999999"}) {
        std::string a = write("a.yaml", std::string("server:\n  workers: ") + bad + "\n");
        EXPECT_EQ(load_error({a}), a + ":2:12: server.workers: expected an integer from 1 to 256, got \"" + bad + "\"");
    }
    std::string b = write("b.yaml", "server:\n  workers: [1]\n");
    EXPECT_EQ(load_error({b}), b + ":2:12: server.workers: expected an integer from 1 to 256, got a list");
}

TEST_F(ConfigErrorTest, Durations) {
    for (const char* key : {"request_timeout", "header_timeout", "idle_timeout", "shutdown_timeout"}) {
        std::string column = std::to_string(std::string(key).size() + 5);
        for (const char* bad : {"30 s", "1.5s", "30sec", "s", "-5s", "1d", "9999999999999999999h"}) {
            std::string a = write("a.yaml", std::string("server:\n  ") + key + ": " + bad + "\n");
            EXPECT_EQ(load_error({a}), a + ":2:" + column + ": server." + key + ": " + kDuration + "\"" + bad + "\"");
        }
        for (const char* zero : {"0", "0ms", "0h"}) {
            std::string a = write("a.yaml", std::string("server:\n  ") + key + ": " + zero + "\n");
            EXPECT_EQ(load_error({a}), a + ":2:" + column + ": server." + key + ": must be greater than 0");
        }
    }
}

TEST_F(ConfigErrorTest, Sizes) {
    for (const char* bad : {"1.5MiB", "1 mib", "MiB", "1TB", "-1", "99999999999GiB"}) {
        std::string a = write("a.yaml", std::string("server:\n  max_request_body: ") + bad + "\n");
        EXPECT_EQ(load_error({a}), a + ":2:21: server.max_request_body: " + kSize + "\"" + bad + "\"");
    }
    std::string z = write("z.yaml", "server:\n  max_request_body: 0KiB\n");
    EXPECT_EQ(load_error({z}), z + ":2:21: server.max_request_body: must be greater than 0");
}

TEST_F(ConfigErrorTest, ListenAddresses) {
    const std::pair<const char*, const char*> cases[] = {
        {"localhost", "the port is missing"},
        {"127.0.0.1:", "the port must be a number from 0 to 65535"},
        {"127.0.0.1:65536", "the port must be a number from 0 to 65535"},
        {"127.0.0.1:80x", "the port must be a number from 0 to 65535"},
        {":7007", "the host is missing"},
        {"::1:7007", "an IPv6 address must be in brackets, as in [::1]:7007"},
        {"[::1:7007", "an IPv6 address needs a closing ]"},
        {"[::g]:7007", "invalid IPv6 address"},
        {"[::1]7007", "the port is missing"},
        {"256.1.1.1:7007", "invalid host"},
        {"bad_host:7007", "invalid host"},
        {"-bad.example:7007", "invalid host"},
    };
    for (const auto& [bad, why] : cases) {
        std::string a = write("a.yaml", std::string("server:\n  listen: \"") + bad + "\"\n");
        EXPECT_EQ(load_error({a}), a + ":2:11: server.listen: " + kListen + "\"" + bad + "\": " + why);
    }
    std::string ok = write("ok.yaml", "server:\n  listen: \"[2001:db8::1]:65535\"\n"
                                      "auth:\n  dangerouslyDisableDefaultAuthPolicy: true\n");
    Config config = load({ok}, environment({}));
    EXPECT_EQ(config.server.listen_host, "2001:db8::1");
    EXPECT_EQ(config.server.listen_port, 65535);
}

TEST_F(ConfigErrorTest, Levels) {
    std::string a = write("a.yaml", "logging:\n  level: loud\n");
    EXPECT_EQ(load_error({a}), a + ":2:10: logging.level: " + kLevel + "\"loud\"");
    std::string b = write("b.yaml", "plugins:\n  p:\n    log_level: warning\n");
    EXPECT_EQ(load_error({b}), b + ":3:16: plugins.p.log_level: " + kLevel + "\"warning\"");
}

TEST_F(ConfigErrorTest, PluginFields) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    enabled: maybe\n");
    EXPECT_EQ(load_error({a}), a + ":3:14: plugins.p.enabled: expected true or false, got \"maybe\"");
    std::string b = write("b.yaml", "plugins:\n  p:\n    required: {a: 1}\n");
    EXPECT_EQ(load_error({b}), b + ":3:15: plugins.p.required: expected true or false, got a map");
    std::string c = write("c.yaml", "plugins:\n  p:\n    version: [1]\n");
    EXPECT_EQ(load_error({c}), c + ":3:14: plugins.p.version: expected a version constraint such as ^1.2, got a list");
}

TEST_F(ConfigErrorTest, PluginSha256) {
    const std::string expected = "expected a SHA-256 digest of 64 hexadecimal digits, as sha256sum prints it, got ";
    const std::string digest(64, 'a');
    for (const std::string& bad : {digest.substr(1), digest + "a", digest.substr(1) + "g", "sha256:" + digest}) {
        std::string a = write("a.yaml", "plugins:\n  p:\n    sha256: " + bad + "\n");
        EXPECT_EQ(load_error({a}), a + ":3:13: plugins.p.sha256: " + expected + "\"" + bad.substr(0, 60) +
                                       (bad.size() > 60 ? "..." : "") + "\"");
    }
    std::string b = write("b.yaml", "plugins:\n  p:\n    sha256: [" + digest + "]\n");
    EXPECT_EQ(load_error({b}), b + ":3:13: plugins.p.sha256: " + expected + "a list");
    // A digest from the environment is not repeated in the message.
    std::string c = write("c.yaml", "plugins:\n  p:\n    sha256: ${PIN}\n");
    EXPECT_EQ(load_error({c}, environment({{"PIN", "0123"}})),
              c + ":3:13: plugins.p.sha256: " + expected + "the value of ${PIN} (not shown)");
}

TEST_F(ConfigErrorTest, PluginTrust) {
    std::string a = write("a.yaml", "plugin_trust:\n  strict_modes: sometimes\n");
    EXPECT_EQ(load_error({a}), a + ":2:17: plugin_trust.strict_modes: expected true or false, got \"sometimes\"");
    std::string b = write("b.yaml", "plugin_trust:\n  strict: false\n");
    EXPECT_EQ(load_error({b}), b + ":2:3: plugin_trust.strict: unknown key (expected one of: strict_modes)");
    std::string c = write("c.yaml", "plugin_trust: false\n");
    EXPECT_EQ(load_error({c}), c + ":1:15: plugin_trust: expected a map, got \"false\"");
}

TEST_F(ConfigErrorTest, PluginIds) {
    std::string long_id(65, 'a');
    for (std::string bad : {std::string("-lead"), std::string("Upper"), std::string("with.dot"), long_id}) {
        std::string a = write("a.yaml", "plugins:\n  " + bad + ": {}\n");
        EXPECT_EQ(load_error({a}), a + ":2:3: plugins." + bad +
                                       ": invalid plugin id (expected [a-z0-9][a-z0-9-]*, at most 64 characters)");
    }
    std::string ok = write("ok.yaml", "plugins:\n  " + std::string(64, 'a') + ": {}\n  0-x-: {}\n");
    EXPECT_EQ(load({ok}, environment({})).plugins.size(), 2u);
}

TEST_F(ConfigErrorTest, YamlStructureErrors) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      ? [a, b]\n      : c\n");
    EXPECT_EQ(load_error({a}), a + ":4:9: plugins.p.config: a map key must be a scalar");
    std::string b = write("b.yaml", "plugins:\n  p:\n    config: &loop\n      self: *loop\n");
    // yaml-cpp gives an alias the position of its anchor.
    EXPECT_EQ(load_error({b}), b + ":3:13: plugins.p.config.self: an alias refers to a node that contains it");
    std::string c = write("c.yaml", "server:\n\tworkers: 2\n");
    EXPECT_EQ(load_error({c}), c + ":2:9: YAML syntax error: illegal map value");
    std::string d = write("d.yaml", "a: " + std::string(3000, '[') + std::string(3000, ']') + "\n");
    EXPECT_TRUE(load_error({d}).starts_with(d + ":1:")) << load_error({d});
    EXPECT_TRUE(load_error({d}).ends_with(": YAML syntax error: nested too deeply")) << load_error({d});
}

// yaml-cpp 0.7 hands out the same empty document again, forever, at a token
// no document consumes: a ',' outside flow brackets, or a '?' after a
// tagged or anchored scalar. Its own loader allocated until memory ran out.
TEST_F(ConfigErrorTest, InputTheParserCannotGetPast) {
    auto at = [](const std::string& name, const std::string& rest) { return fixture("broken/" + name) + ":" + rest; };
    const std::string comma = "YAML syntax error: unexpected ','";
    EXPECT_EQ(fixture_error("lone_comma.yaml"), at("lone_comma.yaml", "1:1: " + comma));
    EXPECT_EQ(fixture_error("comma_without_newline.yaml"), at("comma_without_newline.yaml", "1:1: " + comma));
    EXPECT_EQ(fixture_error("comma_after_list.yaml"), at("comma_after_list.yaml", "2:1: " + comma));
    EXPECT_EQ(fixture_error("comma_after_flow_map.yaml"), at("comma_after_flow_map.yaml", "1:7: " + comma));
    EXPECT_EQ(fixture_error("key_after_anchored_scalar.yaml"),
              at("key_after_anchored_scalar.yaml", "2:1: YAML syntax error: unexpected '?'"));
    // Inside a block map the parser itself stops at the ','.
    EXPECT_EQ(fixture_error("comma_after_map.yaml"),
              at("comma_after_map.yaml", "2:1: YAML syntax error: end of map not found"));

    std::string a = write("a.yaml", "a: 1\n---\n,\n");
    EXPECT_EQ(load_error({a}), a + ":3:1: " + comma);
    std::string b = write("b.yaml", "'x',");
    EXPECT_EQ(load_error({b}), b + ":1:4: " + comma);
    // yaml-cpp counts positions after a UTF-8 byte order mark.
    std::string c = write("c.yaml", "\xEF\xBB\xBF,\n");
    EXPECT_EQ(load_error({c}), c + ":1:1: " + comma);
    // UTF-16 is not looked into to name the character.
    std::string d = write("d.yaml", std::string("\xFF\xFE,\0\n\0", 6));
    EXPECT_EQ(load_error({d}), d + ":1:1: YAML syntax error: unexpected input");
    // A tagged scalar before a '?' as much as an anchored one.
    std::string e = write("e.yaml", "!t a\n? b\n");
    EXPECT_EQ(load_error({e}), e + ":2:1: YAML syntax error: unexpected '?'");
    std::string f = write("f.yaml", "!|\n  x\n?\n");
    EXPECT_EQ(load_error({f}), f + ":3:1: YAML syntax error: unexpected '?'");
    // The same from an included file.
    std::string g = write("g.yaml", "plugins:\n  $include: a.yaml\n");
    EXPECT_EQ(load_error({g}), a + ":3:1: " + comma);
}

TEST_F(ConfigErrorTest, AliasExpansionIsBounded) {
    // Each level doubles the size: 2^20 nodes once expanded.
    std::string text = "l0: &l0 [x, x]\n";
    for (int i = 1; i <= 20; ++i) {
        text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + " , *l" +
                std::to_string(i - 1) + " ]\n";
    }
    std::string a = write(
        "a.yaml", "plugins:\n  p:\n    config:\n" + [&] {
            std::string indented;
            for (std::size_t start = 0; start < text.size();) {
                std::size_t end = text.find('\n', start);
                indented += "      " + text.substr(start, end - start + 1);
                start = end + 1;
            }
            return indented;
        }());
    std::string error = load_error({a});
    EXPECT_TRUE(error.find("the document has more than 100000 nodes once aliases are expanded") != std::string::npos)
        << error;
}

}  // namespace
}  // namespace kerberus::config::testing
