#include <gtest/gtest.h>

#include "config/config.h"
#include "config/plugin_namespace.h"
#include "config_test_support.h"

namespace kerberus::config::testing {
namespace {

using namespace std::chrono_literals;

using ConfigMergeTest = ConfigTest;

std::string settings_json(const Config& config, const std::string& id) {
    return PluginNamespace(config.plugins.at(id).settings).json();
}

TEST_F(ConfigMergeTest, ThreeFilesLayer) {
    std::vector<std::string> files = {fixture("layers/base.yaml"), fixture("layers/override.yaml"),
                                      fixture("layers/local.yaml")};
    Config config = load(files, environment({}));
    EXPECT_EQ(config.files, files);

    // Scalars: the last file that sets one wins; the others stay.
    EXPECT_EQ(config.server.listen_host, "0.0.0.0");
    EXPECT_EQ(config.server.workers, 8u);
    EXPECT_EQ(config.server.request_timeout, 3s);

    // Lists are replaced whole, and resolve against the file that wrote them.
    ASSERT_EQ(config.plugin_directories.size(), 1u);
    EXPECT_EQ(config.plugin_directories[0], std::filesystem::path(fixture("layers/override-plugins")));

    // Maps merge at every depth; a key left without a value changes nothing.
    ASSERT_EQ(config.plugins.size(), 2u);
    EXPECT_EQ(settings_json(config, "hello"), R"({"greeting":"Hi","limits":{"rate":50,"burst":20},"tags":["z"]})");
    EXPECT_EQ(config.plugins.at("hello").version, "^1.0");
    EXPECT_TRUE(config.plugins.at("extra").required);
    EXPECT_EQ(config.log.level, "info");

    // plugins.<id> was last written by local.yaml.
    EXPECT_EQ(config.plugins.at("hello").where.file, fixture("layers/local.yaml"));
    EXPECT_EQ(config.plugins.at("hello").where.line, 6);
    EXPECT_EQ(config.plugins.at("extra").where.file, fixture("layers/override.yaml"));
}

TEST_F(ConfigMergeTest, OrderDecides) {
    std::string a = write("a.yaml", "server:\n  workers: 3\n");
    std::string b = write("b.yaml", "server:\n  workers: 5\n");
    EXPECT_EQ(load({a, b}, environment({})).server.workers, 5u);
    EXPECT_EQ(load({b, a}, environment({})).server.workers, 3u);
}

TEST_F(ConfigMergeTest, ScalarReplacesMapAndMapReplacesScalar) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      x: {deep: 1}\n      y: 2\n");
    std::string b = write("b.yaml", "plugins:\n  p:\n    config:\n      x: flat\n      y: {deep: 2}\n");
    EXPECT_EQ(settings_json(load({a, b}, environment({})), "p"), R"({"x":"flat","y":{"deep":2}})");
}

TEST_F(ConfigMergeTest, ListsAreReplacedNotAppended) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config:\n      l: [1, 2, 3]\n      m: [{a: 1}]\n");
    std::string b = write("b.yaml", "plugins:\n  p:\n    config:\n      l: [4]\n      m: [{b: 2}]\n");
    EXPECT_EQ(settings_json(load({a, b}, environment({})), "p"), R"({"l":[4],"m":[{"b":2}]})");
}

TEST_F(ConfigMergeTest, EmptyLaterFileChangesNothing) {
    std::string a = write("a.yaml", "server:\n  workers: 3\n");
    std::string b = write("b.yaml", "");
    Config config = load({a, b}, environment({}));
    EXPECT_EQ(config.server.workers, 3u);
    EXPECT_EQ(config.files, (std::vector<std::string>{a, b}));
}

TEST_F(ConfigMergeTest, NewKeysAppendInFileOrder) {
    std::string a = write("a.yaml", "plugins:\n  p:\n    config: {b: 1, a: 2}\n");
    std::string b = write("b.yaml", "plugins:\n  p:\n    config: {c: 3, a: 4}\n");
    EXPECT_EQ(settings_json(load({a, b}, environment({})), "p"), R"({"b":1,"a":4,"c":3})");
}

TEST_F(ConfigMergeTest, ErrorNamesTheFileHoldingTheBadValue) {
    std::string a = write("a.yaml", "server:\n  workers: 3\n  request_timeout: soon\n");
    std::string b = write("b.yaml", "# override\nserver:\n  workers: 4\n");
    EXPECT_EQ(load_error({a, b}), a + ":3:20: server.request_timeout: expected a duration such as 250ms, 30s, 5m, "
                                      "1h or a number of seconds, got \"soon\"");
}

TEST_F(ConfigMergeTest, LaterFileErrorPointsAtLaterFile) {
    std::string a = write("a.yaml", "server:\n  workers: 3\n");
    std::string b = write("b.yaml", "\n\nserver:\n    workers: many\n");
    EXPECT_EQ(load_error({a, b}), b + ":4:14: server.workers: expected an integer from 1 to 256, got \"many\"");
}

TEST_F(ConfigMergeTest, OverriddenBadValueIsNoError) {
    std::string a = write("a.yaml", "server:\n  workers: many\n");
    std::string b = write("b.yaml", "server:\n  workers: 2\n");
    EXPECT_EQ(load({a, b}, environment({})).server.workers, 2u);
}

TEST_F(ConfigMergeTest, UnknownKeyInOneOfSeveralFiles) {
    std::string a = write("a.yaml", "server:\n  workers: 3\n");
    std::string b = write("b.yaml", "server:\n  wokers: 4\n");
    EXPECT_EQ(load_error({a, b}), b + ":2:3: server.wokers: unknown key (expected one of: listen, workers, "
                                      "max_request_body, request_timeout, header_timeout, idle_timeout, "
                                      "shutdown_timeout, encoded_slashes, body_timeout, max_connections, "
                                      "max_connections_per_client, max_header_fields, tls)");
}

TEST_F(ConfigMergeTest, TopLevelMustBeAMapInEveryFile) {
    std::string a = write("a.yaml", "- server\n");
    std::string b = write("b.yaml", "server: {}\n");
    EXPECT_EQ(load_error({a, b}), a + ":1:1: expected a map of settings at the top level, got a list");
    std::string c = write("c.yaml", "just text\n");
    EXPECT_EQ(load_error({b, c}), c + ":1:1: expected a map of settings at the top level, got \"just text\"");
}

}  // namespace
}  // namespace kerberus::config::testing
