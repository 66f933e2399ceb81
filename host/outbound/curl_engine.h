// libcurl's multi interface on a thread of its own: the outbound engine for
// everything the plain-http engine does not take (https, host names).
#pragma once

#include <deque>
#include <memory>
#include <thread>
#include <unordered_map>

#include "kerberus/plugin.h"
#include "outbound/ledger.h"
#include "outbound/settings.h"
#include "outbound/upload.h"

namespace kerberus::outbound {

class CurlEngine {
public:
    CurlEngine(const Settings& settings, Ledger& ledger);
    // Returns once the ledger says stopping and every request it took has
    // finished (the client cancels them first).
    ~CurlEngine();
    CurlEngine(const CurlEngine&) = delete;
    CurlEngine& operator=(const CurlEngine&) = delete;

    // Takes a validated request (see Client::send).
    // `stream` (may be null): deliver the answer as it arrives.
    kerberus_status send(Ledger::Owner owner, const kerberus_outbound_request& request,
                         kerberus_outbound_done_fn done, void* user_data, uint64_t* id,
                         const kerberus_outbound_stream_fns* stream, std::shared_ptr<Upload> upload);
    // Makes the thread look at the ledger's cancels and at stopping.
    void wake();

private:
    struct Transfer;
    void run();
    void start(std::unique_ptr<Transfer> t);
    void finish(Transfer* t, kerberus_status result, const char* error);
    void finish_done_transfers();
    void apply_cancels();
    void apply_resumes();
    void apply_body_ready();

    const Settings& settings_;
    Ledger& ledger_;
    void* multi_ = nullptr;  // CURLM*
    std::deque<std::unique_ptr<Transfer>> incoming_;  // guarded by ledger_.mutex

    // Engine thread only.
    std::unordered_map<uint64_t, std::unique_ptr<Transfer>> running_;
    std::thread thread_;
};

}  // namespace kerberus::outbound
