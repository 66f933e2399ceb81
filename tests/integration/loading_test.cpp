// Plugin discovery and loading against broken and special fixtures. Every
// case also checks the daemon goes on serving the bundled plugins: one bad
// file must never cost the others.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult serves_hello(const Daemon& d) {
    auto r = get(d.url("/api/hello/still-here"));
    if (r.status == 200 && r.body == "Hello, still-here!\n") return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "hello no longer served: status " << r.status << " " << r.error << " "
                                         << r.body;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

struct Refusal {
    const char* fixture;               // tests/fixtures/plugins/<fixture>
    const char* file_prefix;           // the built file's name starts with this
    std::vector<std::string> mentions;  // the refusal line must name these
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.fixture; }

class IntegrationLoadingRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(IntegrationLoadingRefusal, LogsOneLineAndServesTheOthers) {
    const auto& param = GetParam();
    fs::path file = find_plugin_file(fixture_plugin_dir(param.fixture), param.file_prefix);
    ASSERT_FALSE(file.empty()) << "fixture not built in " << fixture_plugin_dir(param.fixture);
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir(param.fixture))));
    EXPECT_TRUE(serves_hello(d));
    auto lines = d.log_lines_with({"refusing plugin file", file.string()});
    ASSERT_EQ(lines.size(), 1u) << "refusal lines for " << file << ":\n" << joined(lines);
    for (const auto& needle : param.mentions) EXPECT_NE(lines[0].find(needle), std::string::npos) << needle;
    EXPECT_EQ(d.log_lines_with({"refusing plugin file"}).size(), 1u) << "other files refused too";
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, IntegrationLoadingRefusal,
    ::testing::Values(Refusal{"abi-major", "fixture_abi_major", {"ABI 2.", kHostAbiText}},
                      Refusal{"abi-v2-symbol", "fixture_abi_v2_symbol", {"ABI 2.", kHostAbiText}},
                      Refusal{"abi-minor", "fixture_abi_minor", {"ABI 1.99", kHostAbiText}},
                      Refusal{"no-entry", "fixture_no_entry", {"kerberus_plugin_v1"}},
                      Refusal{"bad-id", "fixture_bad_id", {"invalid plugin id"}},
                      Refusal{"bad-schema", "fixture_bad_schema",
                              {"plugin bad-schema: its config schema is not JSON", "rebuild the plugin"}}),
    [](const auto& info) {
        std::string name = info.param.fixture;
        for (auto& c : name)
            if (c == '-') c = '_';
        return name;
    });

TEST(IntegrationLoading, FileThatIsNotASharedObjectIsRefused) {
    Daemon d;
    fs::path junk = d.write_file("junk/garbage.so", "this is not an ELF file\n");
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(junk.parent_path())));
    EXPECT_TRUE(serves_hello(d));
    EXPECT_EQ(d.log_lines_with({"refusing plugin file", junk.string()}).size(), 1u);
}

TEST(IntegrationLoading, FilesNotNamedLikePluginsAreIgnored) {
    Daemon d;
    d.write_file("other/notes.txt", "notes\n");
    d.write_file("other/old.so.bak", "backup\n");
    d.write_file("other/partial.so.1", "not X.Y.Z\n");
    fs::path other = d.dir() / "other";
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(other)));
    EXPECT_TRUE(serves_hello(d));
    EXPECT_TRUE(d.log_lines_with({"refusing plugin file"}).empty()) << d.log();
}

TEST(IntegrationLoading, InitFailureIsLoggedAndItsRoutesAnswer503) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("init-fails"))));
    EXPECT_TRUE(serves_hello(d));
    auto lines = d.log_lines_with({"failed to start", "database unreachable"});
    EXPECT_EQ(lines.size(), 1u) << joined(lines);
    EXPECT_TRUE(is_error_response(get(d.url("/api/init-fails/")), 503, "GET", "/api/init-fails/"));
}

TEST(IntegrationLoading, HandlerExceptionIs500AndLogged) {
    fs::path file = find_plugin_file(fixture_plugin_dir("throws"), "fixture_throws");
    ASSERT_FALSE(file.empty()) << "fixture not built in " << fixture_plugin_dir("throws");
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("throws"))));
    auto r = get(d.url("/api/throws/boom"));
    EXPECT_TRUE(is_error_response(r, 500, "GET", "/api/throws/boom"));
    EXPECT_TRUE(d.wait_for_log({"[throws]", "boom-from-plugin"}, 2s)) << "no log line with the plugin id and exception";
    // The plugin and the daemon carry on.
    EXPECT_EQ(get(d.url("/api/throws/ok")).status, 200);
    EXPECT_TRUE(serves_hello(d));
}

TEST(IntegrationLoading, HighestVersionOfAnIdWins) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("dup"))));
    auto r = get(d.url("/api/dup/"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "2.0.0");
    auto lines = d.log_lines_with({"dup", "2.0.0", "1.0.0"});
    EXPECT_FALSE(lines.empty()) << "no line names the chosen and the skipped version";
    EXPECT_TRUE(serves_hello(d));
}

TEST(IntegrationLoading, VersionConstraintChoosesAmongVersions) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("dup")).plugin("dup", "version: \"^1\"")));
    auto r = get(d.url("/api/dup/"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body, "1.0.0");
    EXPECT_FALSE(d.log_lines_with({"dup", "2.0.0", "1.0.0"}).empty())
        << "no line names the chosen and the skipped version";
    EXPECT_TRUE(serves_hello(d));
}

// --check's table has one row per plugin file; a symlink and a directory
// listed twice must not make hello appear more than once.
TEST(IntegrationLoading, SameFileReachedTwiceCountsOnce) {
    Daemon d;
    fs::path hello = find_plugin_file(bundled_plugin_dir(), "hello");
    ASSERT_FALSE(hello.empty()) << "no hello plugin in " << bundled_plugin_dir();
    fs::path links = d.dir() / "links";
    fs::create_directories(links);
    fs::create_symlink(hello, links / hello.filename());
    fs::create_symlink(hello, links / "another-name.so");
    auto config = bundled_config().plugin_dir(links).plugin_dir(bundled_plugin_dir());
    auto run = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    int rows = 0;
    for (const auto& line : split_lines(run.out))
        if (line.starts_with("hello ") || line.starts_with("hello\t")) ++rows;
    EXPECT_EQ(rows, 1) << run.out;

    ASSERT_TRUE(d.start(config));
    EXPECT_TRUE(serves_hello(d));
}

TEST(IntegrationLoading, PluginCannotReadAnotherPluginsConfig) {
    Daemon d;
    const std::string secret = "Greetings-7f3a";
    ASSERT_TRUE(d.start(bundled_config()
                            .plugin_dir(fixture_plugin_dir("config-snoop"))
                            .plugin("hello", "config: { greeting: " + secret + " }")
                            .plugin("config-snoop", "config: { own: snoop-own }")));
    // hello sees its own setting...
    EXPECT_EQ(get(d.url("/api/hello/")).body, secret + ", world!\n");

    // ...and the snoop sees only its own.
    auto r = get(d.url("/api/config-snoop/"));
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
    int foreign_keys = 0;
    for (const auto& line : split_lines(r.body)) {
        auto tab = line.find('\t');
        ASSERT_NE(tab, std::string::npos) << line;
        std::string key = line.substr(0, tab);
        std::string rest = line.substr(tab + 1);
        if (key == "own") {
            EXPECT_EQ(rest, "0\tsnoop-own");
        } else if (key == "json") {
            EXPECT_TRUE(rest.starts_with("0\t")) << rest;
            auto doc = parse_json(rest.substr(2));
            EXPECT_FALSE(doc.HasParseError()) << rest;
            EXPECT_EQ(json_string(doc, "own"), "snoop-own") << rest;
        } else {
            ++foreign_keys;
            EXPECT_EQ(rest, "-2\t") << "key " << key << " was not KERBERUS_ERR_NOT_FOUND";
        }
    }
    EXPECT_EQ(foreign_keys, 10) << r.body;
}

TEST(IntegrationLoading, DisabledPluginIsNotServed) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin("echo", "enabled: false")));
    EXPECT_TRUE(is_error_response(get(d.url("/api/echo/x")), 404, "GET", "/api/echo/x", "NotFoundError"));
    EXPECT_TRUE(serves_hello(d));
}

// Append-only growth: a plugin built for an older minor runs unchanged.
TEST(IntegrationLoading, PluginBuiltForAnOlderMinorLoadsAndServes) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("abi-1-0"))));
    auto r = get(d.url("/api/abi-one-zero/"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "old plugin, newer host");
    auto check = d.run_to_exit({"--check", "--config", d.write_config(bundled_config().plugin_dir(fixture_plugin_dir("abi-1-0"))).string()});
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("abi-one-zero"), std::string::npos) << check.out;
    EXPECT_NE(check.out.find(" 1.0 "), std::string::npos) << check.out;
}


// `cp new.so plugins/hello.so` rewrites the file in place. A host that maps
// plugin files directly dies of SIGBUS on its next call into the plugin.
TEST(IntegrationLoading, PluginFileOverwrittenInPlaceKeepsServing) {
    Daemon d;
    fs::path dir = d.dir() / "plugins";
    fs::create_directories(dir);
    fs::path hello = find_plugin_file(bundled_plugin_dir(), "hello");
    ASSERT_FALSE(hello.empty());
    fs::path installed = dir / hello.filename();
    fs::copy_file(hello, installed);
    ASSERT_TRUE(d.start(ConfigBuilder().plugin_dir(dir)));
    ASSERT_EQ(get(d.url("/api/hello/before")).body, "Hello, before!\n");
    {
        // Same inode, truncated, then different bytes: what cp does.
        std::ofstream out(installed, std::ios::binary | std::ios::trunc);
        out << std::string(4096, '\x7f');
    }
    for (int i = 0; i < 20; ++i) {
        auto r = get(d.url("/api/hello/after"));
        ASSERT_EQ(r.body, "Hello, after!\n") << d.log();
    }
    EXPECT_TRUE(d.running());
}

}  // namespace
}  // namespace kerberus::test
