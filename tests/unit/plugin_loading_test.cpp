// ABI checks and version choice, on real shared objects: the fixture
// plugins built in this tree and the bundled ones.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "common/plugin_id.h"
#include "plugins/discovery.h"
#include "plugins/plugin_file.h"

namespace fs = std::filesystem;
using namespace kerberus;

namespace {

fs::path only_file_in(const fs::path& dir) {
    fs::path found;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (is_plugin_file_name(e.path().filename().string())) found = e.path();
    }
    return found;
}

fs::path fixture(const std::string& name) {
    return only_file_in(fs::path(KERBERUS_FIXTURE_PLUGIN_ROOT) / name);
}

std::string refusal_of(const fs::path& file) {
    PluginFileResult r = open_plugin_file(file);
    auto* refusal = std::get_if<PluginRefusal>(&r);
    return refusal ? refusal->reason : std::string("(accepted)");
}

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/kerberus-unit-XXXXXX";
        path_ = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

config::Config config_with_dirs(std::vector<fs::path> dirs) {
    config::Config c;
    c.plugin_directories = std::move(dirs);
    return c;
}

}  // namespace

TEST(PluginId, AcceptsTheDocumentedAlphabetOnly) {
    EXPECT_TRUE(is_valid_plugin_id("hello"));
    EXPECT_TRUE(is_valid_plugin_id("a"));
    EXPECT_TRUE(is_valid_plugin_id("0-x-9"));
    EXPECT_TRUE(is_valid_plugin_id(std::string(64, 'a')));
    EXPECT_FALSE(is_valid_plugin_id(""));
    EXPECT_FALSE(is_valid_plugin_id("-a"));
    EXPECT_FALSE(is_valid_plugin_id("Hello"));
    EXPECT_FALSE(is_valid_plugin_id("a_b"));
    EXPECT_FALSE(is_valid_plugin_id("a.b"));
    EXPECT_FALSE(is_valid_plugin_id("a/b"));
    EXPECT_FALSE(is_valid_plugin_id(std::string(65, 'a')));
}

TEST(PluginFileName, VersionedAndPlainSharedObjects) {
    EXPECT_TRUE(is_plugin_file_name("hello.so"));
    EXPECT_TRUE(is_plugin_file_name("hello.so.1.2.3"));
    EXPECT_TRUE(is_plugin_file_name("libx.so.10.20.30"));
    EXPECT_FALSE(is_plugin_file_name("hello.so.1"));
    EXPECT_FALSE(is_plugin_file_name("hello.so.1.2"));
    EXPECT_FALSE(is_plugin_file_name("hello.c"));
    EXPECT_FALSE(is_plugin_file_name("hello.so.bak"));
    EXPECT_FALSE(is_plugin_file_name(".hidden.so"));
}

TEST(PluginFile, BundledPluginPassesEveryCheck) {
    fs::path hello = fs::path(KERBERUS_BUNDLED_PLUGIN_DIR) / "hello.so.1.0.0";
    PluginFileResult r = open_plugin_file(hello);
    ASSERT_TRUE(std::holds_alternative<PluginFile>(r)) << std::get<PluginRefusal>(r).reason;
    const auto& f = std::get<PluginFile>(r);
    EXPECT_EQ(f.id, "hello");
    EXPECT_EQ(f.version.str(), "1.0.0");
    EXPECT_EQ(f.abi(), host_abi());
    EXPECT_EQ(f.path, hello);
}

TEST(PluginFile, MajorTooNewNamesBothAbisAndWhatToDo) {
    std::string why = refusal_of(fixture("abi-major"));
    EXPECT_NE(why.find("ABI 2.0"), std::string::npos) << why;
    EXPECT_NE(why.find("provides ABI " + host_abi()), std::string::npos) << why;
    EXPECT_NE(why.find("upgrade kerberusd"), std::string::npos) << why;
}

TEST(PluginFile, OnlyAV2EntrySymbolIsRecognisedAsAnotherMajor) {
    std::string why = refusal_of(fixture("abi-v2-symbol"));
    EXPECT_NE(why.find("kerberus_plugin_v2"), std::string::npos) << why;
    EXPECT_NE(why.find("ABI 2"), std::string::npos) << why;
}

TEST(PluginFile, MinorNewerThanTheHostIsRefused) {
    std::string why = refusal_of(fixture("abi-minor"));
    EXPECT_NE(why.find("ABI 1.99"), std::string::npos) << why;
    EXPECT_NE(why.find("minor 99 > " + std::to_string(KERBERUS_ABI_MINOR)), std::string::npos) << why;
}

TEST(PluginFile, NoEntrySymbol) {
    std::string why = refusal_of(fixture("no-entry"));
    EXPECT_NE(why.find("no kerberus_plugin_v1 symbol"), std::string::npos) << why;
}

TEST(PluginFile, InvalidId) {
    std::string why = refusal_of(fixture("bad-id"));
    EXPECT_NE(why.find("invalid plugin id"), std::string::npos) << why;
}

TEST(PluginFile, NotASharedObjectIsRefusedWithTheLoaderError) {
    TempDir dir;
    fs::path junk = dir.path() / "junk.so";
    {
        std::FILE* f = std::fopen(junk.c_str(), "w");
        std::fputs("this is not ELF", f);
        std::fclose(f);
    }
    std::string why = refusal_of(junk);
    EXPECT_NE(why.find("cannot load"), std::string::npos) << why;
}

TEST(PluginScan, SameFileReachedTwiceCountsOnceAndMissingDirsWarn) {
    TempDir dir;
    fs::path hello = fs::path(KERBERUS_BUNDLED_PLUGIN_DIR) / "hello.so.1.0.0";
    fs::create_symlink(hello, dir.path() / "hello.so");
    fs::create_symlink(hello, dir.path() / "alias.so.1.0.0");
    DirectoryScan scan = scan_plugin_directories(
        {dir.path(), KERBERUS_BUNDLED_PLUGIN_DIR, dir.path() / "nope", KERBERUS_BUNDLED_PLUGIN_DIR});
    EXPECT_EQ(std::count(scan.files.begin(), scan.files.end(), fs::canonical(hello)), 1);
    ASSERT_EQ(scan.warnings.size(), 1u);
    EXPECT_NE(scan.warnings[0].find("nope"), std::string::npos);
}

TEST(PluginDiscovery, HighestVersionWinsAndTheSkippedOneIsNamed) {
    Discovery d = discover_plugins(config_with_dirs({fs::path(KERBERUS_FIXTURE_PLUGIN_ROOT) / "dup"}));
    ASSERT_EQ(d.plugins.count("dup"), 1u);
    const PluginChoice& c = d.plugins.at("dup");
    ASSERT_TRUE(c.chosen);
    EXPECT_EQ(c.chosen->version.str(), "2.0.0");
    ASSERT_EQ(c.skipped.size(), 1u);
    EXPECT_EQ(c.skipped[0].version.str(), "1.0.0");
    EXPECT_NE(c.note.find("using 2.0.0"), std::string::npos) << c.note;
    EXPECT_NE(c.note.find("skipped 1.0.0"), std::string::npos) << c.note;
}

TEST(PluginDiscovery, ConstraintPicksAnOlderVersion) {
    config::Config cfg = config_with_dirs({fs::path(KERBERUS_FIXTURE_PLUGIN_ROOT) / "dup"});
    cfg.plugins["dup"].id = "dup";
    cfg.plugins["dup"].version = "~1.0";
    Discovery d = discover_plugins(cfg);
    const PluginChoice& c = d.plugins.at("dup");
    ASSERT_TRUE(c.chosen);
    EXPECT_EQ(c.chosen->version.str(), "1.0.0");
    EXPECT_NE(c.note.find("~1.0"), std::string::npos) << c.note;
}

TEST(PluginDiscovery, UnsatisfiableConstraintLeavesNoChoice) {
    config::Config cfg = config_with_dirs({fs::path(KERBERUS_FIXTURE_PLUGIN_ROOT) / "dup"});
    cfg.plugins["dup"].id = "dup";
    cfg.plugins["dup"].version = ">=3";
    Discovery d = discover_plugins(cfg);
    const PluginChoice& c = d.plugins.at("dup");
    EXPECT_FALSE(c.chosen);
    EXPECT_EQ(c.skipped.size(), 2u);
    EXPECT_NE(c.note.find("no file satisfies"), std::string::npos) << c.note;
}

TEST(PluginDiscovery, RefusedFilesAreReportedAndOthersStillLoad) {
    Discovery d = discover_plugins(config_with_dirs(
        {fs::path(KERBERUS_FIXTURE_PLUGIN_ROOT) / "abi-major", fs::path(KERBERUS_BUNDLED_PLUGIN_DIR)}));
    EXPECT_EQ(d.refused.size(), 1u);
    EXPECT_EQ(d.plugins.count("hello"), 1u);
    EXPECT_EQ(d.plugins.count("echo"), 1u);
}

namespace {

fs::path bundled_hello() { return fs::path(KERBERUS_BUNDLED_PLUGIN_DIR) / "hello.so.1.0.0"; }

std::string digest_of(const fs::path& file) {
    PluginFileResult r = open_plugin_file(file);
    return std::holds_alternative<PluginFile>(r) ? std::get<PluginFile>(r).copy->sha256() : "";
}

// A copy of hello under `name` in `dir`, with `mode`.
fs::path hello_copy(const TempDir& dir, const std::string& name, fs::perms mode) {
    fs::path to = dir.path() / name;
    fs::copy_file(bundled_hello(), to);
    fs::permissions(to, mode);
    return to;
}

}  // namespace

TEST(PluginFileTrust, GroupWritableFileIsRefusedBeforeItIsLoadedUnlessStrictModesIsOff) {
    TempDir dir;
    fs::path file = hello_copy(dir, "hello.so.1.0.0", fs::perms(0664));
    PluginFileResult r = open_plugin_file(file);
    ASSERT_TRUE(std::holds_alternative<PluginRefusal>(r));
    const PluginRefusal& refusal = std::get<PluginRefusal>(r);
    EXPECT_EQ(refusal.reason.find("writable by group"), 0u) << refusal.reason;
    EXPECT_NE(refusal.reason.find("run chmod go-w " + file.string()), std::string::npos) << refusal.reason;
    EXPECT_EQ(refusal.id, "hello");
    LoadPolicy relaxed;
    relaxed.strict_modes = false;
    EXPECT_TRUE(std::holds_alternative<PluginFile>(open_plugin_file(file, relaxed)));
}

TEST(PluginFileTrust, UntrustedDirectoryRefusesEveryPluginFileInItOnce) {
    TempDir dir;
    fs::path file = hello_copy(dir, "hello.so.1.0.0", fs::perms(0644));
    fs::permissions(dir.path(), fs::perms(0777));
    DirectoryScan scan = scan_plugin_directories({dir.path(), dir.path(), KERBERUS_BUNDLED_PLUGIN_DIR});
    ASSERT_EQ(scan.refused.size(), 1u);
    EXPECT_EQ(scan.refused[0].path, dir.path());
    EXPECT_EQ(scan.refused[0].files, std::vector<fs::path>{file});
    std::string said = describe(scan.refused[0]);
    EXPECT_EQ(said.find("writable by group and others (owner "), 0u) << said;
    EXPECT_NE(said.find(", mode 0777); run chmod go-w " + dir.path().string() +
                        "; its plugin file is refused with it: hello.so.1.0.0"),
              std::string::npos)
        << said;
    EXPECT_EQ(std::count(scan.files.begin(), scan.files.end(), fs::canonical(file)), 0);
    EXPECT_EQ(std::count(scan.files.begin(), scan.files.end(), fs::canonical(bundled_hello())), 1);

    DirectoryScan relaxed = scan_plugin_directories({dir.path()}, false);
    EXPECT_TRUE(relaxed.refused.empty());
    EXPECT_EQ(relaxed.files, std::vector<fs::path>{fs::canonical(file)});
}

TEST(PluginPin, MatchingDigestLoadsAndAnotherIsRefusedWithBoth) {
    std::string digest = digest_of(bundled_hello());
    ASSERT_EQ(digest.size(), 64u);
    LoadPolicy pinned;
    pinned.pins["hello"] = digest;
    EXPECT_TRUE(std::holds_alternative<PluginFile>(open_plugin_file(bundled_hello(), pinned)));

    std::string other(64, '0');
    pinned.pins["hello"] = other;
    PluginFileResult r = open_plugin_file(bundled_hello(), pinned);
    ASSERT_TRUE(std::holds_alternative<PluginRefusal>(r));
    EXPECT_EQ(std::get<PluginRefusal>(r).reason,
              "its SHA-256 is " + digest + ", but plugins.hello.sha256 pins " + other +
                  "; install the pinned file, or pin this one if it is the version to run");
    // Pins of other plugins do not apply.
    LoadPolicy elsewhere;
    elsewhere.pins["echo"] = other;
    EXPECT_TRUE(std::holds_alternative<PluginFile>(open_plugin_file(bundled_hello(), elsewhere)));
}

TEST(PluginPin, MisnamedFileAnswersToThePinOfTheIdItHolds) {
    TempDir dir;
    fs::path greet = hello_copy(dir, "greet.so.1.0.0", fs::perms(0644));
    LoadPolicy pinned;
    pinned.pins["hello"] = std::string(64, '0');
    PluginFileResult r = open_plugin_file(greet, pinned);
    ASSERT_TRUE(std::holds_alternative<PluginRefusal>(r));
    EXPECT_EQ(std::get<PluginRefusal>(r).id, "hello");
    EXPECT_NE(std::get<PluginRefusal>(r).reason.find("plugins.hello.sha256"), std::string::npos);
}

TEST(PluginPin, TheChosenFilesDigestIsInTheNoteThatIsLogged) {
    config::Config cfg = config_with_dirs({KERBERUS_BUNDLED_PLUGIN_DIR});
    std::string digest = digest_of(bundled_hello());
    cfg.plugins["hello"].id = "hello";
    cfg.plugins["hello"].sha256 = digest;
    Discovery d = discover_plugins(cfg);
    ASSERT_EQ(d.plugins.count("hello"), 1u);
    EXPECT_NE(d.plugins.at("hello").note.find("sha256 " + digest + ", as pinned"), std::string::npos)
        << d.plugins.at("hello").note;
    ASSERT_EQ(d.plugins.count("echo"), 1u);
    EXPECT_NE(d.plugins.at("echo").note.find("sha256 " + digest_of(d.plugins.at("echo").chosen->path)),
              std::string::npos)
        << d.plugins.at("echo").note;

    cfg.plugins["hello"].sha256 = std::string(64, 'f');
    Discovery refused = discover_plugins(cfg);
    EXPECT_EQ(refused.plugins.count("hello"), 0u);
    ASSERT_EQ(refused.refused.size(), 1u);
    auto why = refusal_of(refused, "hello");
    ASSERT_TRUE(why);
    EXPECT_EQ(why->find("plugin file " + bundled_hello().string() + " was refused: its SHA-256 is " + digest), 0u)
        << *why;
    EXPECT_FALSE(refusal_of(refused, "echo"));
}
