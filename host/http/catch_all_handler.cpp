#include "http/catch_all_handler.h"

#include <string>

#include <pistache/peer.h>

namespace kerberus::http {
namespace {

namespace PH = Pistache::Http;

// HTTP/1.1 persists unless the client says close; HTTP/1.0 closes unless it
// says keep-alive. Pistache 0.0.5 gets the first one wrong.
bool wants_keep_alive(const PH::Request& request) {
    auto connection = request.headers().tryGet<PH::Header::Connection>();
    if (request.version() == PH::Version::Http10) {
        return connection && connection->control() == PH::ConnectionControl::KeepAlive;
    }
    return !connection || connection->control() != PH::ConnectionControl::Close;
}

}  // namespace

void CatchAllHandler::onRequest(const PH::Request& request, PH::ResponseWriter response) {
    // Never called: onInput below dispatches without Pistache's writer.
    (void)request;
    response.send(PH::Code::Internal_Server_Error);
}

void CatchAllHandler::reject(const std::shared_ptr<Pistache::Tcp::Peer>& peer, PH::Version version, int status,
                             std::string_view message) {
    dispatcher_->reject(Connection{transport(), peer, version == PH::Version::Http10}, status, message);
}

void CatchAllHandler::onInput(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    auto parser = getParser(peer);
    auto& request = parser->request;
    // Pipelined bytes are copied out of the parser before it is reset, then
    // parsed as the next request; two buffers so the one being parsed is
    // never the one being filled.
    std::string current, next;
    std::string_view input(buffer, len);
    for (;;) {
        try {
            if (!parser->feed(input.data(), input.size())) {
                parser->reset();
                return reject(peer, request.version(), 413, "request larger than the server accepts");
            }
            if (parser->parse() != PH::Private::State::Done) return;
        } catch (const PH::HttpError& e) {
            parser->reset();
            return reject(peer, request.version(), e.code(), e.what());
        } catch (const std::exception& e) {
            parser->reset();
            return reject(peer, request.version(), 400, e.what());
        }
        RawRequest raw = raw_request(*parser);
        bool pipelined = !raw.unparsed.empty();
        if (pipelined) next.assign(raw.unparsed);
        request.copyAddress(peer->address());
        Connection to{transport(), peer, request.version() == PH::Version::Http10};
        bool finished = dispatcher_->handle(request, std::move(to),
                                            Dispatcher::Arrival{wants_keep_alive(request), raw, pipelined, peer.get()});
        parser->reset();
        // A kept request's answer closes the connection; whatever was
        // pipelined behind it is for the client to send again.
        if (!pipelined || !finished) return;
        current.swap(next);
        input = current;
    }
}

}  // namespace kerberus::http
