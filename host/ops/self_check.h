// The watchdog's evidence that the daemon still serves: a real HTTP request
// to its own liveness endpoint, through the listener and a worker thread.
// A stuck accept loop or a wedged worker stops the pings; systemd restarts.
// Over TLS when the listener speaks it (the certificate is not verified:
// the probe asks whether the daemon serves, not who it is).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace kerberus::ops {

// The calling thread, blocking up to about `timeout` per step.
bool liveness_answers(const std::string& listen_host, uint16_t port, std::chrono::milliseconds timeout,
                      bool tls = false);

}  // namespace kerberus::ops
