#include <gtest/gtest.h>

#include "config/config.h"
#include "config/plugin_namespace.h"
#include "config_test_support.h"

namespace kerberus::config::testing {
namespace {

using namespace std::chrono_literals;

using ConfigLoadTest = ConfigTest;

TEST_F(ConfigLoadTest, NoFilesGiveTheDefaults) {
    Config config = load({}, environment({}));
    EXPECT_TRUE(config.files.empty());
    EXPECT_EQ(config.server.listen_host, "127.0.0.1");
    EXPECT_EQ(config.server.listen_port, 7007);
    EXPECT_EQ(config.server.workers, 2u);
    EXPECT_EQ(config.server.max_request_body, 1024u * 1024u);
    EXPECT_EQ(config.server.request_timeout, 30s);
    EXPECT_EQ(config.server.header_timeout, 60s);
    EXPECT_EQ(config.server.idle_timeout, 75s);
    EXPECT_EQ(config.server.shutdown_timeout, 10s);
    EXPECT_EQ(config.log.level, "info");
    EXPECT_TRUE(config.plugin_trust.strict_modes);
    EXPECT_TRUE(config.plugin_directories.empty());
    EXPECT_TRUE(config.plugins.empty());
}

TEST_F(ConfigLoadTest, AnEmptyFileIsAnEmptyConfig) {
    std::string file = fixture("empty.yaml");
    Config config = load({file}, environment({}));
    EXPECT_EQ(config.files, std::vector<std::string>{file});
    EXPECT_EQ(config.server.workers, 2u);
    EXPECT_TRUE(config.plugins.empty());
}

TEST_F(ConfigLoadTest, CommentsOnlyAndNullSectionsKeepDefaults) {
    std::string file = write("a.yaml", "# nothing yet\nserver:\nlogging: ~\nplugins:\nplugin_directories:\n");
    Config config = load({file}, environment({}));
    EXPECT_EQ(config.server.workers, 2u);
    EXPECT_EQ(config.log.level, "info");
    EXPECT_TRUE(config.plugins.empty());
    EXPECT_TRUE(config.plugin_directories.empty());
}

TEST_F(ConfigLoadTest, ReadsEveryKey) {
    std::string file = fixture("full.yaml");
    Config config = load({file}, environment({}));
    EXPECT_EQ(config.server.listen_host, "::1");
    EXPECT_EQ(config.server.listen_port, 8080);
    EXPECT_EQ(config.server.workers, 4u);
    EXPECT_EQ(config.server.max_request_body, 2u * 1024u * 1024u);
    EXPECT_EQ(config.server.request_timeout, 250ms);
    EXPECT_EQ(config.server.header_timeout, 5min);
    EXPECT_EQ(config.server.idle_timeout, 90s);
    EXPECT_EQ(config.server.shutdown_timeout, 1h);
    EXPECT_EQ(config.log.level, "warn");
    EXPECT_FALSE(config.plugin_trust.strict_modes);
    ASSERT_EQ(config.plugin_directories.size(), 2u);
    EXPECT_EQ(config.plugin_directories[0], std::filesystem::path(fixture("plugins")));
    EXPECT_EQ(config.plugin_directories[1], std::filesystem::path("/opt/kerberus/plugins"));

    ASSERT_EQ(config.plugins.size(), 3u);
    const PluginSettings& hello = config.plugins.at("hello");
    EXPECT_EQ(hello.id, "hello");
    EXPECT_FALSE(hello.enabled);
    EXPECT_EQ(hello.version, "^1.2");
    EXPECT_TRUE(hello.required);
    EXPECT_EQ(hello.log_level, "debug");
    // Kept in lower case, as sha256sum prints it.
    EXPECT_EQ(hello.sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    EXPECT_EQ(hello.where.file, file);
    EXPECT_EQ(hello.where.line, 18);
    EXPECT_EQ(hello.where.column, 3);
    EXPECT_EQ(PluginNamespace(hello.settings).json(),
              R"({"greeting":"Hello","port":8080,"quoted":"8080","ratio":0.5,"flags":["on",true],)"
              R"("nested":{"list":[{"x":1},{"x":2}]}})");

    const PluginSettings& other = config.plugins.at("other-2");
    EXPECT_TRUE(other.enabled);
    EXPECT_FALSE(other.version);
    EXPECT_FALSE(other.required);
    EXPECT_FALSE(other.log_level);
    EXPECT_FALSE(other.sha256);
    EXPECT_TRUE(other.settings.IsNull());

    const PluginSettings& bare = config.plugins.at("bare");
    EXPECT_TRUE(bare.enabled);
    EXPECT_EQ(bare.where.line, 35);
    EXPECT_EQ(PluginNamespace(bare.settings).json(), "{}");
}

TEST_F(ConfigLoadTest, SettingForms) {
    std::string file = write("a.yaml",
                             "server:\n"
                             "  listen: localhost:0\n"
                             "  workers: '256'\n"
                             "  max_request_body: 1 KB\n"
                             "  request_timeout: 45\n"
                             "  header_timeout: \"2s\"\n"
                             "logging:\n"
                             "  level: CRITICAL\n"
                             "plugins:\n"
                             "  a:\n"
                             "    enabled: Off\n"
                             "    required: \"true\"\n"
                             "    log_level: trace\n");
    Config config = load({file}, environment({}));
    EXPECT_EQ(config.server.listen_host, "localhost");
    EXPECT_EQ(config.server.listen_port, 0);
    EXPECT_EQ(config.server.workers, 256u);
    EXPECT_EQ(config.server.max_request_body, 1000u);
    EXPECT_EQ(config.server.request_timeout, 45s);
    EXPECT_EQ(config.server.header_timeout, 2s);
    EXPECT_EQ(config.log.level, "critical");
    EXPECT_FALSE(config.plugins.at("a").enabled);
    EXPECT_TRUE(config.plugins.at("a").required);
    EXPECT_EQ(config.plugins.at("a").log_level, "trace");
}

TEST_F(ConfigLoadTest, SizeUnits) {
    const std::pair<const char*, std::size_t> cases[] = {
        {"17", 17},         {"17B", 17},   {"3KiB", 3 * 1024}, {"3MiB", 3 * 1024 * 1024},
        {"1GiB", 1u << 30}, {"3KB", 3000}, {"3MB", 3'000'000}, {"2GB", 2'000'000'000},
    };
    for (const auto& [text, bytes] : cases) {
        std::string file = write("a.yaml", std::string("server:\n  max_request_body: ") + text + "\n");
        EXPECT_EQ(load({file}, environment({})).server.max_request_body, bytes) << text;
    }
}

TEST_F(ConfigLoadTest, RelativeDirectoriesResolveAgainstTheirFile) {
    std::string first = write("etc/a.yaml", "plugin_directories: [../lib/plugins, ./here]\n");
    Config config = load({first}, environment({}));
    ASSERT_EQ(config.plugin_directories.size(), 2u);
    EXPECT_EQ(config.plugin_directories[0], std::filesystem::weakly_canonical(path("lib/plugins")));
    EXPECT_EQ(config.plugin_directories[1], std::filesystem::weakly_canonical(path("etc/here")));
    EXPECT_TRUE(config.plugin_directories[0].is_absolute());
}

TEST_F(ConfigLoadTest, MissingFileIsNamed) {
    std::string file = path("missing.yaml");
    EXPECT_EQ(load_error({file}), file + ": cannot read the file: No such file or directory");
}

TEST_F(ConfigLoadTest, DirectoryIsNotAFile) {
    std::string dir = path("");
    EXPECT_EQ(load_error({dir}), dir + ": cannot read the file: Is a directory");
}

TEST_F(ConfigLoadTest, ErrorCarriesItsParts) {
    std::string file = write("a.yaml", "server:\n  workers: 0\n");
    try {
        load({file}, environment({}));
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where().file, file);
        EXPECT_EQ(e.where().line, 2);
        EXPECT_EQ(e.where().column, 12);
        EXPECT_EQ(e.key_path(), "server.workers");
        EXPECT_EQ(e.message(), "expected an integer from 1 to 256, got \"0\"");
        EXPECT_EQ(std::string(e.what()), file + ":2:12: server.workers: expected an integer from 1 to 256, got \"0\"");
    }
}

TEST_F(ConfigLoadTest, ProcessEnvironmentReadsVariables) {
    ASSERT_EQ(setenv("KERBERUS_CONFIG_TEST_VAR", "7", 1), 0);
    ASSERT_EQ(unsetenv("KERBERUS_CONFIG_TEST_UNSET"), 0);
    Environment env = process_environment();
    EXPECT_EQ(env("KERBERUS_CONFIG_TEST_VAR"), "7");
    EXPECT_EQ(env("KERBERUS_CONFIG_TEST_UNSET"), std::nullopt);
    std::string file = write("a.yaml", "server:\n  workers: ${KERBERUS_CONFIG_TEST_VAR}\n");
    EXPECT_EQ(load({file}).server.workers, 7u);
}

}  // namespace
}  // namespace kerberus::config::testing
