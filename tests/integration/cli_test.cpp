// The command line as an operator meets it: --version, --help, usage errors,
// --check and its exit codes, config errors that point at file:line:col, and
// several config files merged in order.
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

namespace fs = std::filesystem;

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 78;

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// The --check row whose first column is `id`; empty if none.
std::vector<std::string> check_row(const std::string& table, const std::string& id) {
    for (const auto& line : split_lines(table)) {
        auto w = words(line);
        if (!w.empty() && w[0] == id) return w;
    }
    return {};
}

TEST(IntegrationCli, VersionNamesTheAbi) {
    Daemon d;
    auto run = d.run_to_exit({"--version"});
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find(kHostAbiText), std::string::npos) << run.out;
    EXPECT_TRUE(std::regex_search(run.out, std::regex(R"([0-9]+\.[0-9]+\.[0-9]+)"))) << run.out;
}

TEST(IntegrationCli, HelpDescribesTheOptions) {
    Daemon d;
    auto run = d.run_to_exit({"--help"});
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("--config"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("--check"), std::string::npos) << run.out;
}

TEST(IntegrationCli, UnknownOptionIsAUsageError) {
    Daemon d;
    auto run = d.run_to_exit({"--frobnicate"});
    EXPECT_EQ(run.status, kExitUsage) << run.out << run.err;
    EXPECT_FALSE(run.err.empty());
}

TEST(IntegrationCli, ConfigWithoutFileIsAUsageError) {
    Daemon d;
    auto run = d.run_to_exit({"--config"});
    EXPECT_EQ(run.status, kExitUsage) << run.out << run.err;
}

TEST(IntegrationCli, CheckOfGoodPluginsPrintsTheTableAndExitsZero) {
    Daemon d;
    auto run = d.run_to_exit({"--check", "--config", d.write_config(bundled_config()).string()});
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    auto lines = split_lines(run.out);
    bool header = false;
    for (const auto& line : lines)
        header = header || words(line) == std::vector<std::string>{"ID", "VERSION", "ABI", "STATE", "SETTINGS", "FILE",
                                                                   "DESCRIPTION"};
    EXPECT_TRUE(header) << run.out;
    for (std::string id : {"hello", "echo"}) {
        auto row = check_row(run.out, id);
        ASSERT_GE(row.size(), 6u) << "no row for " << id << ":\n" << run.out;
        EXPECT_TRUE(std::regex_match(row[1], std::regex(R"([0-9]+\.[0-9]+\.[0-9]+.*)"))) << row[1];
        EXPECT_EQ(row[2], kHostAbi);
        EXPECT_EQ(row[3], "ok");
        EXPECT_NE(row[5].find(bundled_plugin_dir().string()), std::string::npos) << row[5];
    }
    // hello declares a config schema and checks fine; its description shows.
    EXPECT_EQ(check_row(run.out, "hello")[4], "checked");
    EXPECT_EQ(check_row(run.out, "echo")[4], "none");
    EXPECT_NE(run.out.find("Greets the world, or whoever is named in the path"), std::string::npos) << run.out;
    // What --check does not run, said plainly.
    EXPECT_NE(run.out.find("Not checked: plugins are not initialised"), std::string::npos) << run.out;
    EXPECT_EQ(run.err.find("serving on"), std::string::npos);
}

TEST(IntegrationCli, CheckWithABrokenPluginExitsOne) {
    Daemon d;
    fs::path broken = find_plugin_file(fixture_plugin_dir("abi-major"), "fixture_abi_major");
    ASSERT_FALSE(broken.empty());
    auto config = bundled_config().plugin_dir(fixture_plugin_dir("abi-major"));
    auto run = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(run.status, 1) << run.out << run.err;
    EXPECT_NE(run.out.find(broken.string()), std::string::npos) << "broken file not in the table:\n" << run.out;
    EXPECT_GE(check_row(run.out, "hello").size(), 5u) << run.out;
}

// --check must not run init: a plugin whose init fails still passes.
TEST(IntegrationCli, CheckDoesNotInitialisePlugins) {
    Daemon d;
    auto config = bundled_config().plugin_dir(fixture_plugin_dir("init-fails"));
    auto run = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    EXPECT_GE(check_row(run.out, "init-fails").size(), 5u) << run.out;
    EXPECT_EQ(run.out.find("database unreachable"), std::string::npos) << run.out;
    EXPECT_EQ(run.err.find("database unreachable"), std::string::npos) << run.err;
}

// A wrong setting is caught by the plugin's config schema, before any
// plugin runs: file, line, column, key path and what was wanted.
TEST(IntegrationCli, CheckOfAPluginSettingItsSchemaRefusesExits78) {
    Daemon d;
    auto config = d.write_config(bundled_config().plugin("hello", "config: { greeting: 42 }"));
    auto run = d.run_to_exit({"--check", "--config", config.string()});
    EXPECT_EQ(run.status, kExitConfig) << run.out << run.err;
    EXPECT_TRUE(std::regex_search(
        run.err, std::regex(config.string() +
                            R"(:[0-9]+:[0-9]+: plugins\.hello\.config\.greeting: expected a string, got an integer)")))
        << run.err;
    // The daemon refuses to start on it too.
    auto serve = d.run_to_exit({"--config", config.string()});
    EXPECT_EQ(serve.status, kExitConfig) << serve.err;
}

// One row per file, and a file whose name does not say what it holds is named.
TEST(IntegrationCli, CheckListsDuplicateAndMisnamedFiles) {
    Daemon d;
    fs::path extra = d.dir() / "extra";
    fs::create_directories(extra);
    fs::copy_file(find_plugin_file(bundled_plugin_dir(), "hello"), extra / "greet.so.1.1.0");
    auto run = d.run_to_exit({"--check", "--config", d.write_config(bundled_config().plugin_dir(extra)).string()});
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    std::size_t hello_rows = 0;
    for (const auto& line : split_lines(run.out)) hello_rows += !words(line).empty() && words(line)[0] == "hello";
    EXPECT_EQ(hello_rows, 2u) << run.out;
    EXPECT_NE(run.out.find("duplicate " + (extra / "greet.so.1.1.0").string()), std::string::npos) << run.out;
    EXPECT_NE(run.err.find("file " + (extra / "greet.so.1.1.0").string() + " holds plugin hello 1.0.0; name it hello.so.1.0.0"),
              std::string::npos)
        << run.err;
}

TEST(IntegrationCli, CheckOfABadConfigExits78) {
    Daemon d;
    fs::path file = test_fixture("daemon-config/bad-workers.yaml");
    auto run = d.run_to_exit({"--check", "--config", file.string()});
    EXPECT_EQ(run.status, kExitConfig) << run.out << run.err;
    EXPECT_TRUE(std::regex_search(run.err, std::regex(R"(bad-workers\.yaml:3:[0-9]+)"))) << run.err;
}

struct BadConfig {
    const char* file;
    int line;
    const char* key_path;  // empty when the error is below the key level
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.file; }

class IntegrationConfigError : public ::testing::TestWithParam<BadConfig> {};

TEST_P(IntegrationConfigError, Exits78NamingFileLineColumnAndKey) {
    const auto& param = GetParam();
    Daemon d;
    fs::path file = test_fixture(std::string("daemon-config/") + param.file);
    auto run = d.run_to_exit({"--config", file.string()});
    EXPECT_EQ(run.status, kExitConfig) << run.err;
    std::regex where(std::regex_replace(file.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + ":" +
                     std::to_string(param.line) + ":[0-9]+");
    EXPECT_TRUE(std::regex_search(run.err, where)) << "expected " << file.string() << ":" << param.line
                                                   << ":<col> in:\n"
                                                   << run.err;
    if (*param.key_path) {
        EXPECT_NE(run.err.find(param.key_path), std::string::npos) << run.err;
    }
    EXPECT_EQ(run.err.find("serving on"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Files, IntegrationConfigError,
                         ::testing::Values(BadConfig{"bad-syntax.yaml", 4, ""},
                                           BadConfig{"bad-workers.yaml", 3, "server.workers"},
                                           BadConfig{"bad-duration.yaml", 3, "server.request_timeout"},
                                           BadConfig{"bad-encoded-slashes.yaml", 3, "server.encoded_slashes"},
                                           BadConfig{"bad-version-constraint.yaml", 7, "plugins.hello.version"},
                                           BadConfig{"bad-sha256.yaml", 7, "plugins.hello.sha256"}),
                         [](const auto& info) {
                             std::string name = info.param.file;
                             name = name.substr(0, name.find('.'));
                             for (auto& c : name)
                                 if (c == '-') c = '_';
                             return name;
                         });

// yaml-cpp 0.7's own loader never got past these; kerberusd allocated until
// the machine ran out of memory.
TEST(IntegrationCli, CheckOfAConfigTheParserCannotGetPastExits78Promptly) {
    const std::pair<const char*, const char*> cases[] = {
        {"lone_comma.yaml", ":1:1: YAML syntax error: unexpected ','"},
        {"comma_without_newline.yaml", ":1:1: YAML syntax error: unexpected ','"},
        {"comma_after_list.yaml", ":2:1: YAML syntax error: unexpected ','"},
        {"comma_after_flow_map.yaml", ":1:7: YAML syntax error: unexpected ','"},
        {"comma_after_map.yaml", ":2:1: YAML syntax error: end of map not found"},
        {"key_after_anchored_scalar.yaml", ":2:1: YAML syntax error: unexpected '?'"},
    };
    for (const auto& [name, answer] : cases) {
        Daemon d;
        fs::path file = test_fixture(std::string("config/broken/") + name);
        auto start = Clock::now();
        auto run = d.run_to_exit({"--check", "--config", file.string()}, 5s);
        EXPECT_EQ(run.status, kExitConfig) << name << "\n" << run.err;
        EXPECT_NE(run.err.find(file.string() + answer), std::string::npos) << run.err;
        EXPECT_LT(elapsed_ms(start), 2000) << name;
    }
}

TEST(IntegrationCli, LaterConfigFileWins) {
    Daemon d;
    fs::path first = d.write_config(bundled_config().plugin("hello", "config: { greeting: First }"), "first.yaml");
    fs::path second = d.write_file("second.yaml", "plugins:\n  hello:\n    config:\n      greeting: Second\n");
    ASSERT_TRUE(d.start({"--config", first.string(), "--config", second.string()}));
    EXPECT_EQ(get(d.url("/api/hello/")).body, "Second, world!\n");
}

}  // namespace
}  // namespace kerberus::test
