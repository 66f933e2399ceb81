// The watchdog's evidence that the daemon still serves: a real HTTP request
// to its own liveness endpoint, through the listener and a worker thread.
// A stuck accept loop or a wedged worker stops the pings; systemd restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace kerberus::ops {

bool liveness_answers(const std::string& listen_host, uint16_t port, std::chrono::milliseconds timeout);

}  // namespace kerberus::ops
