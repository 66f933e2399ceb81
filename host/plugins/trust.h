// Whether a plugin file or plugin directory may be trusted with the daemon's
// code, like sshd's StrictModes: whoever can change a plugin file, or put
// another file into a plugin directory, runs code as the daemon. So only root
// or the daemon's own user may own one, and neither its group nor others may
// write to it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

namespace kerberus {

// What stat() found.
struct Ownership {
    uid_t owner = 0;
    mode_t mode = 0;  // st_mode; only the permission bits are read
};

// The account name of a uid ("root"), empty when it has none.
using UserNames = std::function<std::string(uid_t)>;

// Why `path` may not be trusted, naming the owner and mode found and the
// command that fixes it ("writable by group (owner root, mode 0664); run
// chmod go-w /p/x.so"); nullopt when it may. `daemon_uid` is the daemon's
// effective uid. Names are looked up only for the message.
std::optional<std::string> ownership_problem(const Ownership& found, uid_t daemon_uid, const std::string& path,
                                             const UserNames& names);

// The same for a stat() result, for the daemon's effective uid, with names
// from the system's user database.
std::optional<std::string> ownership_problem(const struct stat& st, const std::string& path);

}  // namespace kerberus
