// plugin_trust.strict_modes: who may own a plugin file or directory and who
// may write to it, and what the refusal tells the operator to do.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <ostream>
#include <string>

#include "plugins/trust.h"

using namespace kerberus;

namespace {

constexpr uid_t kRoot = 0;
constexpr uid_t kDaemon = 998;
constexpr uid_t kStranger = 12345;
const std::string kFile = "/usr/local/lib/kerberus/plugins/greeter.so.1.0.0";

std::string name_of(uid_t uid) {
    if (uid == kRoot) return "root";
    if (uid == kDaemon) return "kerberus";
    return "";  // no account
}

std::optional<std::string> problem(uid_t owner, mode_t mode, uid_t daemon = kRoot,
                                   const std::string& path = kFile) {
    return ownership_problem(Ownership{owner, mode}, daemon, path, name_of);
}

}  // namespace

TEST(PluginTrust, RootOrTheDaemonsUserMayOwnWhatOnlyItsOwnerMayWrite) {
    EXPECT_EQ(problem(kRoot, S_IFREG | 0644), std::nullopt);
    EXPECT_EQ(problem(kRoot, S_IFREG | 0755), std::nullopt);
    EXPECT_EQ(problem(kRoot, S_IFREG | 0400), std::nullopt);
    EXPECT_EQ(problem(kRoot, S_IFDIR | 0700), std::nullopt);
    EXPECT_EQ(problem(kRoot, S_IFDIR | 0755, kDaemon), std::nullopt);
    EXPECT_EQ(problem(kDaemon, S_IFREG | 0644, kDaemon), std::nullopt);
    // Set-id and sticky bits are not write permissions.
    EXPECT_EQ(problem(kRoot, S_IFDIR | 01755), std::nullopt);
}

namespace {

// What the operator reads after "refusing plugin file FILE: ".
struct Refusal {
    const char* name;
    uid_t owner;
    mode_t mode;
    uid_t daemon;
    std::string path;
    std::string said;
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }

}  // namespace

class PluginTrustRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(PluginTrustRefusal, NamesOwnerModeAndFix) {
    const Refusal& r = GetParam();
    EXPECT_EQ(problem(r.owner, r.mode, r.daemon, r.path), r.said);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PluginTrustRefusal,
    ::testing::Values(
        Refusal{"group_writable", kRoot, S_IFREG | 0664, kRoot, kFile,
                "writable by group (owner root, mode 0664); run chmod go-w " + kFile},
        Refusal{"others_writable", kRoot, S_IFDIR | 0757, kRoot, "/srv/plugins",
                "writable by others (owner root, mode 0757); run chmod go-w /srv/plugins"},
        // The sticky bit keeps others from replacing root's files, not from adding their own.
        Refusal{"sticky", kRoot, S_IFDIR | 01777, kRoot, "/tmp",
                "writable by group and others (owner root, mode 1777); run chmod go-w /tmp"},
        Refusal{"foreign_owner_without_account", kStranger, S_IFREG | 0644, kRoot, kFile,
                "not owned by root (owner uid 12345, mode 0644); run chown root " + kFile},
        Refusal{"foreign_owner_of_an_unprivileged_daemon", kStranger, S_IFREG | 0644, kDaemon, kFile,
                "owned by neither root nor kerberus, the user kerberusd runs as (owner uid 12345, mode 0644); "
                "run chown root " + kFile},
        Refusal{"every_problem_and_every_fix", kStranger, S_IFREG | 0666, kRoot, kFile,
                "not owned by root and writable by group and others (owner uid 12345, mode 0666); run chown root " +
                    kFile + " && chmod go-w " + kFile},
        Refusal{"path_with_a_space", kRoot, S_IFDIR | 0775, kRoot, "/srv/my plugins",
                "writable by group (owner root, mode 0775); run chmod go-w '/srv/my plugins'"},
        Refusal{"path_with_a_quote", kRoot, S_IFDIR | 0775, kRoot, "/srv/it's",
                "writable by group (owner root, mode 0775); run chmod go-w '/srv/it'\\''s'"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PluginTrust, NamesAreLookedUpOnlyForARefusal) {
    int lookups = 0;
    auto counting = [&](uid_t uid) {
        ++lookups;
        return name_of(uid);
    };
    EXPECT_EQ(ownership_problem(Ownership{kRoot, S_IFREG | 0644}, kRoot, kFile, counting), std::nullopt);
    EXPECT_EQ(lookups, 0);
}

TEST(PluginTrust, StatResultsOfTheRunningProcess) {
    struct stat st {};
    st.st_uid = ::geteuid();
    st.st_mode = S_IFREG | 0644;
    EXPECT_EQ(ownership_problem(st, kFile), std::nullopt);
    st.st_mode = S_IFREG | 0620;
    auto why = ownership_problem(st, kFile);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("writable by group"), std::string::npos) << *why;
    EXPECT_NE(why->find("mode 0620"), std::string::npos) << *why;
}
