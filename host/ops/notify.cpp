#include "ops/notify.h"

#include <cstdint>
#include <ctime>

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

void Notifier::reloading() const {
    // MONOTONIC_USEC lets systemd (253+) match READY=1 to this reload.
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ull +
                              static_cast<unsigned long long>(ts.tv_nsec) / 1000ull;
    sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu", usec);
}

void Notifier::stopping(const std::string& status) const {
    sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status.c_str());
}

}  // namespace kerberus::ops
