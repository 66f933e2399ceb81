// What kerberus needs from Pistache 0.0.5 that its API does not give.
#pragma once

#include <pistache/http.h>

namespace kerberus::http {

// Pistache closes connections idle for longer than its timeouts, counting
// from the last time its per-peer parser was reset. kerberus parses requests
// itself and never feeds that parser, so it restarts the count here after
// each request, without the reset (which rebuilds a whole Request object).
void mark_activity(Pistache::Http::RequestParser& parser);

}  // namespace kerberus::http
