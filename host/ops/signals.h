// Signals are taken synchronously by the main thread (sigtimedwait), never
// by handlers: the daemon's reaction to SIGTERM is ordinary code.
#pragma once

#include <chrono>

namespace kerberus::ops {

// Blocks SIGTERM, SIGINT and SIGHUP in this thread and every thread started
// after it, and ignores SIGPIPE (a peer closing mid-write must not kill the
// daemon). Call first thing in main.
void block_signals();

// The next blocked signal, or 0 when `timeout` passes first.
int wait_for_signal(std::chrono::milliseconds timeout);

}  // namespace kerberus::ops
