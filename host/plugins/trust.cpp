#include "plugins/trust.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>
#include <vector>

namespace kerberus {
namespace {

constexpr uid_t kRoot = 0;

std::string who(uid_t uid, const UserNames& names) {
    std::string name = names(uid);
    return name.empty() ? "uid " + std::to_string(uid) : name;
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// The path as a shell word, so the fix can be pasted as it is.
std::string shell_word(const std::string& path) {
    bool plain = !path.empty();
    for (char c : path) {
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("/._-+,:@%=").find(c) != std::string_view::npos;
        plain = plain && safe;
    }
    if (plain) return path;
    std::string quoted = "'";
    for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string joined(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
    return out;
}

std::string account_name(uid_t uid) {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
    struct passwd entry {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) return {};
    return found->pw_name;
}

}  // namespace

std::optional<std::string> ownership_problem(const Ownership& found, uid_t daemon_uid, const std::string& path,
                                             const UserNames& names) {
    bool foreign = found.owner != kRoot && found.owner != daemon_uid;
    bool by_group = (found.mode & S_IWGRP) != 0;
    bool by_others = (found.mode & S_IWOTH) != 0;
    if (!foreign && !by_group && !by_others) return std::nullopt;

    std::vector<std::string> problems, fixes;
    if (foreign) {
        problems.push_back(daemon_uid == kRoot ? "not owned by root"
                                               : "owned by neither root nor " + who(daemon_uid, names) +
                                                     ", the user kerberusd runs as");
        fixes.push_back("chown root " + shell_word(path));
    }
    if (by_group || by_others) {
        problems.push_back(std::string("writable by ") +
                           (by_group && by_others ? "group and others" : by_group ? "group" : "others"));
        fixes.push_back("chmod go-w " + shell_word(path));
    }
    return joined(problems, " and ") + " (owner " + who(found.owner, names) + ", mode " + octal_mode(found.mode) +
           "); run " + joined(fixes, " && ");
}

std::optional<std::string> ownership_problem(const struct stat& st, const std::string& path) {
    return ownership_problem(Ownership{st.st_uid, st.st_mode}, ::geteuid(), path, account_name);
}

}  // namespace kerberus
