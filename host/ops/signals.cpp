#include "ops/signals.h"

#include <csignal>
#include <ctime>

#include <pthread.h>

namespace kerberus::ops {
namespace {

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

void block_signals() {
    sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_signal(std::chrono::milliseconds timeout) {
    sigset_t set = handled_signals();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1'000'000);
    int sig = sigtimedwait(&set, nullptr, &ts);
    return sig > 0 ? sig : 0;
}

}  // namespace kerberus::ops
