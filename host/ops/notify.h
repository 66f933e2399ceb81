// Talking to systemd (Type=notify): readiness, status, watchdog, stopping.
// Every call is a no-op when the daemon was not started with NOTIFY_SOCKET.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace kerberus::ops {

class Notifier {
public:
    Notifier();

    void ready(const std::string& status) const;
    void watchdog() const;
    void reloading() const;
    void stopping(const std::string& status) const;

    // How often systemd expects WATCHDOG=1, if it does (WatchdogSec=).
    std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

private:
    std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace kerberus::ops
