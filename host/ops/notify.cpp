#include "ops/notify.h"

#include <cstdint>

#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace kerberus::ops {

Notifier::Notifier() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_ = std::chrono::microseconds(usec);
}

void Notifier::ready(const std::string& status) const {
    sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%lu", status.c_str(), static_cast<unsigned long>(getpid()));
}

void Notifier::watchdog() const { sd_notify(0, "WATCHDOG=1"); }

void Notifier::stopping(const std::string& status) const {
    sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status.c_str());
}

}  // namespace kerberus::ops
