// Plugin trust as an operator meets it: files and directories others could
// change are refused with the fix named (plugin_trust.strict_modes), and a
// plugins.<id>.sha256 pin lets only the pinned bytes run — in the log, in
// --check, in the inventory and across a reload.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

constexpr uid_t kStranger = 12345;

// A plugin directory of the test's own, with copies of the bundled hello and
// echo; created 0755 whatever the umask, as strict modes want it.
fs::path plugin_dir(const Daemon& d, const std::string& name = "plugins") {
    fs::path dir = d.dir() / name;
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms(0755));
    for (const char* id : {"hello", "echo"}) {
        fs::path from = find_plugin_file(bundled_plugin_dir(), id);
        fs::copy_file(from, dir / from.filename());
    }
    return dir;
}

fs::path file_of(const fs::path& dir, const char* id) { return find_plugin_file(dir, id); }

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

// The inventory's record of one plugin file.
std::string file_field(const Daemon& d, const fs::path& file, const char* field) {
    auto doc = parse_json(get(d.admin_url("/v1/plugins")).body);
    if (!doc.IsObject() || !doc.HasMember("files")) return "(no inventory)";
    const auto* record = find_by(doc["files"], "path", file.string());
    return record ? json_string(*record, field).value_or("(null)") : "(not listed)";
}

::testing::AssertionResult serves(const Daemon& d, const std::string& path) {
    auto r = get(d.url(path));
    if (r.status == 200) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << path << " not served: " << r.status << " " << r.error << " " << r.body;
}

// Whether --check's table has a row in `state` for `file`.
bool has_row(const std::string& table, const std::string& state, const fs::path& file) {
    for (const auto& line : split_lines(table)) {
        std::istringstream in(line);
        std::vector<std::string> words;
        for (std::string w; in >> w;) words.push_back(w);
        if (words.size() >= 6 && words[3] == state && words[5] == file.string()) return true;
    }
    return false;
}

// How many lines of `text` say that `dir` is refused.
std::size_t directory_refusals(const std::string& text, const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& line : split_lines(text)) n += line.find("directory " + dir.string() + ": ") != std::string::npos;
    return n;
}

}  // namespace

TEST(IntegrationPluginTrust, GroupWritableFileIsRefusedWithTheFixWhileTheOthersLoad) {
    Daemon d;
    fs::path dir = plugin_dir(d);
    fs::path echo = file_of(dir, "echo");
    fs::permissions(echo, fs::perms(0664));
    auto config = ConfigBuilder().plugin_dir(dir);

    auto check = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(check.status, 1) << check.out << check.err;
    EXPECT_TRUE(has_row(check.out, "refused", echo)) << check.out;
    EXPECT_NE(check.out.find("refused " + echo.string() + ": writable by group (owner "), std::string::npos)
        << check.out;

    ASSERT_TRUE(d.start(config));
    EXPECT_TRUE(serves(d, "/api/hello/trust"));
    EXPECT_EQ(get(d.url("/api/echo/x")).status, 404);
    auto lines = d.log_lines_with({"refusing plugin file"});
    ASSERT_EQ(lines.size(), 1u) << joined(lines);
    for (const std::string& needle : {echo.string() + ": writable by group (owner ", std::string(", mode 0664); "),
                                      "run chmod go-w " + echo.string()}) {
        EXPECT_NE(lines[0].find(needle), std::string::npos) << needle << " not in " << lines[0];
    }
    EXPECT_EQ(file_field(d, echo, "state"), "refused");
    EXPECT_EQ(file_field(d, echo, "reason").find("writable by group"), 0u) << file_field(d, echo, "reason");
}

TEST(IntegrationPluginTrust, GroupWritableDirectoryRefusesEveryPluginInItOnce) {
    Daemon d;
    fs::path dir = plugin_dir(d);
    fs::permissions(dir, fs::perms(0775));
    auto config = ConfigBuilder().plugin_dir(dir).plugin_dir(fixture_plugin_dir("dup"));

    auto check = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(check.status, 1) << check.out << check.err;
    for (const char* id : {"hello", "echo"}) EXPECT_TRUE(has_row(check.out, "refused", file_of(dir, id))) << check.out;
    EXPECT_EQ(directory_refusals(check.out, dir), 1u) << check.out;
    EXPECT_NE(check.out.find("refused directory " + dir.string() + ": writable by group"), std::string::npos)
        << check.out;

    ASSERT_TRUE(d.start(config));
    EXPECT_TRUE(serves(d, "/api/dup/"));
    EXPECT_EQ(get(d.url("/api/hello/x")).status, 404);
    auto lines = d.log_lines_with({"refusing plugin directory " + dir.string()});
    ASSERT_EQ(lines.size(), 1u) << d.log();
    for (const std::string& needle :
         {std::string(": writable by group (owner "), std::string(", mode 0775); run chmod go-w ") + dir.string(),
          "its 2 plugin files are refused with it: " + file_of(dir, "echo").filename().string() + ", " +
              file_of(dir, "hello").filename().string()}) {
        EXPECT_NE(lines[0].find(needle), std::string::npos) << needle << " not in " << lines[0];
    }
    EXPECT_TRUE(d.log_lines_with({"refusing plugin file"}).empty()) << d.log();
    EXPECT_EQ(directory_refusals(d.log(), dir), 1u) << d.log();
    EXPECT_EQ(file_field(d, file_of(dir, "hello"), "state"), "refused");
    EXPECT_NE(file_field(d, file_of(dir, "hello"), "reason").find("plugin directory " + dir.string() + " is refused"),
              std::string::npos);
}

// A running plugin whose file turns untrusted keeps serving from the copy
// that was checked when it loaded, as after any failed replacement; the
// reload says why it was not replaced.
TEST(IntegrationPluginTrust, ARunningPluginWhoseFileTurnsUntrustedKeepsServing) {
    Daemon d;
    fs::path dir = plugin_dir(d);
    ASSERT_TRUE(d.start(ConfigBuilder().plugin_dir(dir)));
    ASSERT_TRUE(serves(d, "/api/echo/x"));
    fs::path echo = file_of(dir, "echo");
    fs::permissions(echo, fs::perms(0664));
    ASSERT_TRUE(reload(d));
    EXPECT_TRUE(serves(d, "/api/echo/x"));
    EXPECT_TRUE(d.wait_for_log({"plugin echo keeps its running version", "writable by group"})) << d.log();
}

TEST(IntegrationPluginTrust, StrictModesOffLoadsWhatOthersCanWrite) {
    Daemon d;
    fs::path dir = plugin_dir(d);
    fs::permissions(dir, fs::perms(0777));
    fs::permissions(file_of(dir, "echo"), fs::perms(0666));
    auto config = ConfigBuilder().plugin_dir(dir).section("plugin_trust", "{ strict_modes: false }");
    auto check = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    ASSERT_TRUE(d.start(config));
    EXPECT_TRUE(serves(d, "/api/hello/trust"));
    EXPECT_TRUE(serves(d, "/api/echo/x"));
    EXPECT_TRUE(d.log_lines_with({"refusing plugin"}).empty()) << d.log();
}

TEST(IntegrationPluginTrust, FileOrDirectoryOwnedBySomeoneElseIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
    Daemon d;
    fs::path dir = plugin_dir(d);
    fs::path hello = file_of(dir, "hello");
    ASSERT_EQ(::chown(hello.c_str(), kStranger, static_cast<gid_t>(-1)), 0);
    fs::path other = plugin_dir(d, "other");
    fs::remove(file_of(other, "hello"));
    ASSERT_EQ(::chown(other.c_str(), kStranger, static_cast<gid_t>(-1)), 0);
    ASSERT_TRUE(d.start(ConfigBuilder().plugin_dir(dir).plugin_dir(other)));
    EXPECT_TRUE(serves(d, "/api/echo/x"));
    EXPECT_EQ(get(d.url("/api/hello/x")).status, 404);

    auto file_lines = d.log_lines_with({"refusing plugin file " + hello.string() + ": not owned by root (owner "});
    ASSERT_EQ(file_lines.size(), 1u) << d.log();
    EXPECT_NE(file_lines[0].find(", mode 0755); run chown root " + hello.string()), std::string::npos) << file_lines[0];
    auto dir_lines = d.log_lines_with({"refusing plugin directory " + other.string() + ": not owned by root (owner "});
    ASSERT_EQ(dir_lines.size(), 1u) << d.log();
    EXPECT_NE(dir_lines[0].find(", mode 0755); run chown root " + other.string()), std::string::npos) << dir_lines[0];
}

TEST(IntegrationPluginPin, MatchingDigestLoadsAndTheDigestIsLogged) {
    Daemon d;
    fs::path hello = find_plugin_file(bundled_plugin_dir(), "hello");
    std::string digest = sha256sum(hello);
    ASSERT_EQ(digest.size(), 64u);
    ASSERT_TRUE(d.start(bundled_config().plugin("hello", "sha256: " + digest)));
    EXPECT_TRUE(serves(d, "/api/hello/trust"));
    EXPECT_EQ(d.log_lines_with({"plugin hello: using", hello.string(), "sha256 " + digest + ", as pinned"}).size(), 1u)
        << d.log();
    // Unpinned plugins have theirs logged too.
    fs::path echo = find_plugin_file(bundled_plugin_dir(), "echo");
    EXPECT_EQ(d.log_lines_with({"plugin echo: using", "sha256 " + sha256sum(echo)}).size(), 1u) << d.log();
}

TEST(IntegrationPluginPin, OtherDigestRefusesThePluginNamingBoth) {
    Daemon d;
    fs::path hello = find_plugin_file(bundled_plugin_dir(), "hello");
    std::string digest = sha256sum(hello);
    std::string pin(64, 'e');
    auto config = bundled_config().plugin("hello", "sha256: " + pin);
    const std::string reason = "its SHA-256 is " + digest + ", but plugins.hello.sha256 pins " + pin;

    auto check = d.run_to_exit({"--check", "--config", d.write_config(config).string()});
    EXPECT_EQ(check.status, 1) << check.out << check.err;
    EXPECT_NE(check.out.find("refused " + hello.string() + ": " + reason), std::string::npos) << check.out;
    EXPECT_EQ(check.out.find("missing"), std::string::npos) << check.out;

    ASSERT_TRUE(d.start(config));
    EXPECT_TRUE(serves(d, "/api/echo/x"));
    EXPECT_EQ(d.log_lines_with({"refusing plugin file " + hello.string() + ": " + reason}).size(), 1u) << d.log();
    // The configured plugin answers 503 and says why.
    auto r = get(d.url("/api/hello/x"));
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("was refused"), std::string::npos) << r.body;
    EXPECT_EQ(file_field(d, hello, "state"), "refused");
    EXPECT_EQ(file_field(d, hello, "reason").find(reason), 0u) << file_field(d, hello, "reason");
}

// A changed pin is a changed plugin: a reload replaces it, stops it when the
// pin names neither the file nor what runs, and starts it again when the
// pin is put right.
TEST(IntegrationPluginPin, ReloadWithAChangedPinReloadsThePlugin) {
    Daemon d;
    fs::path hello = find_plugin_file(bundled_plugin_dir(), "hello");
    std::string digest = sha256sum(hello);
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_TRUE(serves(d, "/api/hello/trust"));

    d.write_config(bundled_config().plugin("hello", "sha256: " + digest));
    ASSERT_TRUE(reload(d));
    EXPECT_EQ(d.log_lines_with({"reloaded:", "1 replaced"}).size(), 1u) << d.log();
    EXPECT_TRUE(serves(d, "/api/hello/trust"));

    d.write_config(bundled_config().plugin("hello", "sha256: " + std::string(64, '0')));
    ASSERT_TRUE(reload(d));
    EXPECT_EQ(d.log_lines_with({"reloaded:", "1 failed"}).size(), 1u) << d.log();
    EXPECT_EQ(get(d.url("/api/hello/x")).status, 503);
    EXPECT_TRUE(serves(d, "/api/echo/x"));

    d.write_config(bundled_config().plugin("hello", "sha256: " + digest));
    ASSERT_TRUE(reload(d));
    EXPECT_EQ(d.log_lines_with({"reloaded:", "1 replaced"}).size(), 2u) << d.log();
    EXPECT_TRUE(serves(d, "/api/hello/trust"));
}
