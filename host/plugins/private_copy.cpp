#include "plugins/private_copy.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

namespace kerberus {
namespace {

std::runtime_error system_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

// SHA-256 through OpenSSL's EVP interface, of `size` bytes of `fd`; empty
// when it cannot be read.
std::string digest(int fd, std::size_t size) {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    void* bytes = size == 0 ? nullptr : ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (bytes == MAP_FAILED) return {};
    int ok = EVP_Digest(bytes, size, hash, &length, EVP_sha256(), nullptr);
    if (bytes != nullptr) ::munmap(bytes, size);
    if (ok != 1) return {};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[hash[i] >> 4];
        hex += kHex[hash[i] & 0xf];
    }
    return hex;
}

}  // namespace

PrivateCopy::PrivateCopy(const std::filesystem::path& path) {
    int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw system_error("cannot open");
    struct stat& st = source_;
    if (::fstat(in, &st) != 0) {
        ::close(in);
        throw system_error("cannot stat");
    }
    identity_ = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
                std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    std::string name = "kerberus:" + path.filename().string();
    fd_ = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd_ < 0) {
        ::close(in);
        throw system_error("cannot create an in-memory copy");
    }
    off_t offset = 0;
    while (offset < st.st_size) {
        ssize_t n = ::sendfile(fd_, in, &offset, static_cast<size_t>(st.st_size - offset));
        if (n <= 0) {
            ::close(in);
            ::close(fd_);
            throw system_error("cannot copy");
        }
    }
    ::close(in);
    // Nobody, the daemon included, can change the copy afterwards, so the
    // digest below is of the bytes that will be mapped.
    ::fcntl(fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    load_path_ = "/proc/self/fd/" + std::to_string(fd_);
    sha256_ = digest(fd_, static_cast<std::size_t>(st.st_size));
}

PrivateCopy::~PrivateCopy() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace kerberus
