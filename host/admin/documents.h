// The documents the admin surface serves, each built from one snapshot of
// the daemon (daemon_view.h) and the metrics registry.
#pragma once

#include <string>

#include "admin/daemon_view.h"

namespace kerberus::admin {

// GET /metrics: Prometheus text format 0.0.4, every name kerberus_...
std::string prometheus_text(const DaemonSnapshot& snapshot, bool ready);

// GET /v1/plugins: every plugin file seen and every configured plugin,
// with state, routes and effective config (secrets redacted).
std::string inventory_json(const DaemonSnapshot& snapshot);

// GET /v1/openapi.json: an OpenAPI 3.1 document of every running plugin's
// routes.
std::string openapi_json(const DaemonSnapshot& snapshot);

// GET /v1/stats: per-route counts and latency buckets, recent events and
// reloads, for the dashboard (it computes rates from two readings).
std::string stats_json(const DaemonSnapshot& snapshot, bool ready);

}  // namespace kerberus::admin
