// The health endpoints on the public listener, at kerberus's paths and at
// Backstage's (probes and charts written for Backstage work unchanged):
//
//   /.kerberus/health/v1/liveness   /.backstage/health/v1/liveness
//     200 {"status":"ok"} while the process runs; plugins play no part.
//   /.kerberus/health/v1/readiness  /.backstage/health/v1/readiness
//     200 {"status":"ok",...} when the daemon should take traffic, else 503
//     {"status":"error","message":...}; both list every plugin with its
//     state (running, unhealthy, failed, disabled, stopping) and message.
//
// Not ready: while starting (before every enabled plugin got its init);
// once shutdown began; while a `required: true` plugin is failed or
// unhealthy; and while no plugin runs although some are enabled (an
// instance that can serve nothing should not get traffic).
#pragma once

#include "admin/daemon_view.h"
#include "http/dispatcher.h"

namespace kerberus::admin {

struct Readiness {
    bool ready = false;
    std::string message;  // why not, or "ok"
};
Readiness readiness(const DaemonSnapshot& snapshot, bool serving);

// The per-plugin state readiness and the inventory show.
const char* shown_state(const DaemonSnapshot& snapshot, const PluginInstance& plugin);

http::HostRoutes health_routes(const DaemonView& view);

}  // namespace kerberus::admin
