// A plugin file is loaded from a private, sealed in-memory copy, never from
// its path: operators copy new versions over old ones in place, and a
// shared object overwritten while mapped crashes the process that mapped it
// (SIGBUS). The copy also gives every load its own statics, so a plugin
// reloaded from the same file starts fresh.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

namespace kerberus {

class PrivateCopy {
public:
    // Copies `path` into a memfd. Throws std::runtime_error with the reason.
    explicit PrivateCopy(const std::filesystem::path& path);
    ~PrivateCopy();
    PrivateCopy(const PrivateCopy&) = delete;
    PrivateCopy& operator=(const PrivateCopy&) = delete;

    // What to hand to dlopen: "/proc/self/fd/<n>". Valid while this lives,
    // which must be as long as the library stays loaded (debuggers and
    // sanitizers read symbols through it).
    const std::string& load_path() const { return load_path_; }
    // What identifies the file the copy was made from (device, inode, size,
    // modification time): equal identities mean an unchanged file.
    const std::string& identity() const { return identity_; }
    // SHA-256 of the copy's bytes, lower-case hex: what is actually loaded.
    const std::string& sha256() const { return sha256_; }
    // The status of the file the bytes were read from (fstat of the open
    // file): its owner and mode are those of what was copied.
    const struct stat& source() const { return source_; }

private:
    int fd_ = -1;
    std::string load_path_;
    std::string identity_;
    std::string sha256_;
    struct stat source_ {};
};

}  // namespace kerberus
