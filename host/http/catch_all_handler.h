// The one Pistache handler: reads requests off a connection and hands each
// to the Dispatcher.
//
// Pistache is kept for what it does well (accepting, epoll, writing queued
// answers, idle timeouts); requests are framed by kerberus's own parser
// (see request_parser.h). Pistache 0.0.5's input loop dropped every request
// pipelined behind the first one and answered malformed requests in plain
// text; its parser was most of a request's cost.
#pragma once

#include <memory>

#include <pistache/http.h>

#include "http/connection_state.h"
#include "http/dispatcher.h"

namespace kerberus::http {

class CatchAllHandler : public Pistache::Http::Handler {
public:
    HTTP_PROTOTYPE(CatchAllHandler)

    explicit CatchAllHandler(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

    // Unused: onInput hands requests to the Dispatcher directly.
    void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;

private:
    void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
    void onInput(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
    // True (and the connection set to close after that answer) when a
    // request a plugin kept is still unanswered: what arrives behind it is
    // not served.
    static bool kept_unanswered(ConnectionState& conn);
    // Handles the complete requests at the start of `input`; returns how
    // many bytes they took.
    std::size_t serve(std::string_view input, ConnectionState& conn, const std::shared_ptr<Pistache::Tcp::Peer>& peer);
    Connection connection(ConnectionState& conn, const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool http10) {
        return Connection{transport(), peer, http10, &conn};
    }

    Dispatcher* dispatcher_;
};

}  // namespace kerberus::http
