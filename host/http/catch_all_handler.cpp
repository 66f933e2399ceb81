#include "http/catch_all_handler.h"

#include <string>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <pistache/peer.h>

#include "http/pistache_access.h"

namespace kerberus::http {
namespace {

namespace PH = Pistache::Http;

// Looked up per read, and Peer::getData takes a std::string: a key short
// enough for the small-string buffer costs no allocation.
constexpr const char* kStateKey = "kerberus";

}  // namespace

void CatchAllHandler::onRequest(const PH::Request& request, PH::ResponseWriter response) {
    // Never called: onInput below dispatches without Pistache's writer.
    (void)request;
    response.send(PH::Code::Internal_Server_Error);
}

void CatchAllHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    // Pistache's idle-connection timer reads the time from its own parser
    // object, so one is kept per peer (never fed; see mark_activity).
    auto timer_clock = std::make_shared<PH::RequestParser>(0);
    auto conn = std::make_shared<ConnectionState>(
        RequestParser::Limits{kMaxHeaderBytes, dispatcher_->max_request_body()});
    conn->remote = peer->address().host();
    conn->socket = ::fcntl(peer->fd(), F_DUPFD_CLOEXEC, 0);
    // An answer is written whole, at once: Nagle's algorithm would only hold
    // back the last segment of a large one until the client's delayed ACK.
    int one = 1;
    ::setsockopt(peer->fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn->timer_clock = timer_clock.get();
    peer->putData(ParserData, std::move(timer_clock));
    peer->putData(kStateKey, std::move(conn));
}

void CatchAllHandler::onInput(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    auto* conn = static_cast<ConnectionState*>(peer->getData(kStateKey).get());
    if (conn->closing) return;  // its last answer closes it; the rest is not read
    if (conn->answers_written.load(std::memory_order_acquire) < conn->requests_dispatched && kept_unanswered(*conn)) {
        return;
    }
    if (conn->pending.empty()) {
        // The usual case: whole requests in one read, parsed where they lie.
        std::string_view input(buffer, len);
        std::size_t used = serve(input, *conn, peer);
        if (!conn->closing && used < len) conn->pending.assign(input.substr(used));
    } else {
        conn->pending.append(buffer, len);
        std::size_t used = serve(conn->pending, *conn, peer);
        if (conn->closing) {
            conn->pending.clear();
        } else {
            conn->pending.erase(0, used);
        }
    }
    // A request half-received is what Pistache's header timeout is for; a
    // connection between requests is idle (its keep-alive timeout).
    peer->setIdle(conn->pending.empty());
}

bool CatchAllHandler::kept_unanswered(ConnectionState& conn) {
    std::lock_guard lock(conn.write_mutex);
    if (conn.answers_written.load(std::memory_order_relaxed) >= conn.requests_dispatched) return false;
    conn.close_after_answer = true;
    conn.closing = true;
    conn.pending.clear();
    return true;
}

std::size_t CatchAllHandler::serve(std::string_view input, ConnectionState& conn,
                                   const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    std::size_t used = 0;
    while (used < input.size()) {
        std::string_view rest = input.substr(used);
        switch (conn.parser.parse(rest, conn.request)) {
            case RequestParser::Status::incomplete:
                if (conn.parser.take_continue()) {
                    std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
                    write_response(connection(conn, peer, false), interim, false, true);
                }
                return used;
            case RequestParser::Status::failed:
                conn.closing = true;
                dispatcher_->reject(connection(conn, peer, conn.request.http10), conn.parser.error_status(),
                                    conn.parser.error_message(), conn.request.method, conn.request.target);
                return used;
            case RequestParser::Status::complete: break;
        }
        ParsedRequest& request = conn.request;
        used += request.size;
        ++conn.requests_dispatched;
        bool pipelined = used < input.size();
        mark_activity(*conn.timer_clock);
        bool finished = dispatcher_->handle(request, connection(conn, peer, request.http10),
                                            Dispatcher::Arrival{conn.remote, pipelined});
        conn.parser.reset();
        // A kept request's answer closes the connection when more was
        // pipelined behind it; that rest is for the client to send again.
        if ((!finished && pipelined) || !request.keep_alive || dispatcher_->draining()) {
            conn.closing = true;
            return used;
        }
    }
    return used;
}

}  // namespace kerberus::http
