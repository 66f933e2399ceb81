// The one Pistache handler: reads requests off a connection and hands each
// to the Dispatcher.
//
// It replaces Pistache 0.0.5's own input loop, which drops every request
// pipelined behind the first one (the client then waits forever) and answers
// malformed requests with plain-text bodies.
#pragma once

#include <memory>

#include <pistache/http.h>

#include "http/dispatcher.h"

namespace kerberus::http {

class CatchAllHandler : public Pistache::Http::Handler {
public:
    HTTP_PROTOTYPE(CatchAllHandler)

    explicit CatchAllHandler(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

    // Unused: onInput hands requests to the Dispatcher directly.
    void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;

private:
    void onInput(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
    void reject(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Pistache::Http::Version version, int status,
                std::string_view message);

    Dispatcher* dispatcher_;
};

}  // namespace kerberus::http
