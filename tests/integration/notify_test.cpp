// The systemd notification protocol as a service manager sees it: a
// datagram socket named by NOTIFY_SOCKET, and WATCHDOG_USEC.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

class NotifySocket {
public:
    explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~NotifySocket() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    bool bound() const { return bound_; }

    // Every message that arrives within `window`.
    std::vector<std::string> collect(Millis window) {
        std::vector<std::string> got;
        auto until = Clock::now() + window;
        while (Clock::now() < until) {
            pollfd p{fd_, POLLIN, 0};
            int left = static_cast<int>(std::chrono::duration_cast<Millis>(until - Clock::now()).count());
            if (::poll(&p, 1, std::max(left, 0)) <= 0) break;
            char buf[4096];
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) got.emplace_back(buf, static_cast<std::size_t>(n));
        }
        return got;
    }
    // Waits for a message containing `needle`; the messages before it are
    // appended to `seen`, those after it stay queued for the next call.
    bool wait_for(const std::string& needle, Millis timeout, std::vector<std::string>* seen = nullptr) {
        auto until = Clock::now() + timeout;
        while (Clock::now() < until) {
            if (queue_.empty()) {
                for (auto& m : collect(50ms)) queue_.push_back(std::move(m));
                continue;
            }
            std::string m = std::move(queue_.front());
            queue_.erase(queue_.begin());
            bool hit = m.find(needle) != std::string::npos;
            if (seen) seen->push_back(std::move(m));
            if (hit) return true;
        }
        return false;
    }

private:
    std::filesystem::path path_;
    std::vector<std::string> queue_;
    int fd_ = -1;
    bool bound_ = false;
};

std::size_t count_with(const std::vector<std::string>& messages, const std::string& needle) {
    std::size_t n = 0;
    for (const auto& m : messages) n += m.find(needle) != std::string::npos;
    return n;
}

// Sets the variables for the next daemon started by this process only.
class NotifyEnvironment {
public:
    NotifyEnvironment(const std::filesystem::path& socket, const std::string& watchdog_usec) {
        ::setenv("NOTIFY_SOCKET", socket.c_str(), 1);
        if (!watchdog_usec.empty()) ::setenv("WATCHDOG_USEC", watchdog_usec.c_str(), 1);
    }
    ~NotifyEnvironment() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
    }
};

}  // namespace

TEST(IntegrationNotify, ReadyWatchdogAndStoppingInOrder) {
    Daemon d;
    NotifySocket sock(d.dir() / "notify.sock");
    ASSERT_TRUE(sock.bound());
    {
        NotifyEnvironment env(d.dir() / "notify.sock", "300000");
        ASSERT_TRUE(d.start(bundled_config()));
    }
    std::vector<std::string> seen;
    ASSERT_TRUE(sock.wait_for("READY=1", 3s, &seen));
    EXPECT_NE(seen.back().find("plugins running, 0 failed; serving on 127.0.0.1:" + std::to_string(d.port())),
              std::string::npos)
        << seen.back();
    EXPECT_EQ(count_with(seen, "WATCHDOG=1"), 0u) << "watchdog pinged before ready";
    auto pings = sock.collect(1s);
    EXPECT_GE(count_with(pings, "WATCHDOG=1"), 2u);
    d.signal(SIGTERM);
    EXPECT_TRUE(sock.wait_for("STOPPING=1", 3s));
    EXPECT_EQ(d.wait_exit(10s), 0);
}

TEST(IntegrationNotify, WatchdogStopsWhileServingIsStalled) {
    Daemon d;
    NotifySocket sock(d.dir() / "notify.sock");
    ASSERT_TRUE(sock.bound());
    {
        NotifyEnvironment env(d.dir() / "notify.sock", "300000");
        ASSERT_TRUE(d.start(
            bundled_config().server("workers", "1").plugin_dir(fixture_plugin_dir("abi-contract"))));
    }
    ASSERT_TRUE(sock.wait_for("READY=1", 3s));
    ASSERT_TRUE(sock.wait_for("WATCHDOG=1", 2s));
    // The only worker sleeps 1.5 s inside a plugin handler.
    std::thread blocker([&] { get(d.url("/api/abi-contract/block")); });
    std::this_thread::sleep_for(300ms);
    auto during = sock.collect(900ms);
    blocker.join();
    EXPECT_EQ(count_with(during, "WATCHDOG=1"), 0u) << "pinged while no request could be served";
    EXPECT_TRUE(sock.wait_for("WATCHDOG=1", 2s)) << "pings did not resume";
    EXPECT_TRUE(d.wait_for_log({"watchdog pings stop"}, 1s)) << d.log();
}

TEST(IntegrationNotify, WithoutNotifySocketNothingIsSentAndItServes) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_EQ(get(d.url("/api/hello/")).status, 200);
}

TEST(IntegrationNotify, ReloadIsFramedByReloadingAndReady) {
    Daemon d;
    NotifySocket sock(d.dir() / "notify.sock");
    ASSERT_TRUE(sock.bound());
    {
        NotifyEnvironment env(d.dir() / "notify.sock", "");
        ASSERT_TRUE(d.start(bundled_config()));
    }
    ASSERT_TRUE(sock.wait_for("READY=1", 3s));
    d.signal(SIGHUP);
    std::vector<std::string> seen;
    ASSERT_TRUE(sock.wait_for("RELOADING=1", 3s, &seen));
    EXPECT_NE(seen.back().find("MONOTONIC_USEC="), std::string::npos) << seen.back();
    ASSERT_TRUE(sock.wait_for("READY=1", 3s));
}

// What `systemctl status` shows must not hide a rejected reload.
TEST(IntegrationNotify, RejectedReloadShowsInStatus) {
    Daemon d;
    NotifySocket sock(d.dir() / "notify.sock");
    ASSERT_TRUE(sock.bound());
    {
        NotifyEnvironment env(d.dir() / "notify.sock", "");
        ASSERT_TRUE(d.start(bundled_config()));
    }
    ASSERT_TRUE(sock.wait_for("READY=1", 3s));
    d.write_file("kerberus.yaml", "server:\n  workers: many\n");
    d.signal(SIGHUP);
    std::vector<std::string> seen;
    ASSERT_TRUE(sock.wait_for("READY=1", 3s, &seen));
    EXPECT_NE(seen.back().find("plugins running, 0 failed"), std::string::npos) << seen.back();
    EXPECT_NE(seen.back().find("last reload rejected: "), std::string::npos) << seen.back();
    EXPECT_NE(seen.back().find("server.workers"), std::string::npos) << seen.back();
}
