// The daemon's one outbound HTTP client, shared by every plugin (the proxy
// first of all). Two engines, each on a thread of its own, do the I/O:
// plain http:// to an IP literal goes to a purpose-built HTTP/1.1 loop
// (Http1Engine), everything else (https, host names, userinfo) to libcurl's
// multi interface (CurlEngine). Both pool connections per host; nothing here
// ever blocks a caller on the network: send() queues, an engine calls back.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>
#include <string_view>
#include <unordered_set>

#include <spdlog/logger.h>

#include "kerberus/plugin.h"
#include "net/worker.h"
#include "outbound/ledger.h"
#include "outbound/resolver.h"
#include "outbound/settings.h"

namespace kerberus::outbound {

class CurlEngine;
class Http1Engine;

class Client {
public:
    // Whoever a request belongs to (a plugin instance): cancel_owner() ends
    // all of one owner's requests at once.
    using Owner = Ledger::Owner;

    Client(Settings settings, std::shared_ptr<spdlog::logger> logger);
    ~Client();  // cancels whatever is left (callbacks run) and joins
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Validates and copies the request, then queues it. On KERBERUS_OK,
    // `done` runs exactly once, later, on one of the engines' threads.
    // `stream` (may be null): deliver the answer as it arrives (plugin.h
    // outbound_stream).
    kerberus_status send(Owner owner, const kerberus_outbound_request& request, kerberus_outbound_done_fn done,
                         void* user_data, uint64_t* id, const kerberus_outbound_stream_fns* stream = nullptr);
    // NOT_FOUND once the request completed.
    kerberus_status resume(Owner owner, uint64_t id);
    // outbound_body_write and outbound_body_end; NOT_FOUND once the request
    // completed or when it has no streamed body.
    kerberus_status write_body(Owner owner, uint64_t id, std::string_view data);
    kerberus_status end_body(Owner owner, uint64_t id);
    // NOT_FOUND once the request completed.
    kerberus_status cancel(Owner owner, uint64_t id);
    // Cancels every request of `owner` and returns once all their callbacks
    // have run. Never call it from a callback or a server worker thread.
    void cancel_owner(Owner owner);

    // A plain-http engine of its own for one server worker thread, run by
    // its event loop: requests a handler makes there are sent, read and
    // answered on that thread (no hand-over to the client's thread and
    // back). The client owns the engine and keeps it until it is destroyed.
    std::unique_ptr<net::Sidecar> worker_engine();

private:
    void wake_engines();
    // Records a cancel or resume of a live request of `owner`'s for the
    // engines; NOT_FOUND when there is none.
    kerberus_status ask(std::unordered_set<uint64_t> Ledger::*requests, Owner owner, uint64_t id);
    std::shared_ptr<Upload> upload_of(Owner owner, uint64_t id);
    // The engines learn that `id`'s upload has bytes (or its end) waiting.
    void body_ready(uint64_t id);

    Settings settings_;
    std::shared_ptr<spdlog::logger> logger_;
    Ledger ledger_;
    Resolver resolver_;
    std::unique_ptr<CurlEngine> curl_;
    std::unique_ptr<Http1Engine> http1_;
    std::mutex worker_engines_mutex_;
    std::vector<std::unique_ptr<Http1Engine>> worker_engines_;
};

}  // namespace kerberus::outbound
