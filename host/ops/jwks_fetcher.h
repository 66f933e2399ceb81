// Fetches the JSON Web Key Sets of auth.externalAccess jwks entries through
// the daemon's outbound client, one RemoteKeySet per URL for the daemon's
// life, so a reload that keeps a URL keeps its keys and never serves a
// moment without them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

#include "auth/access_control.h"
#include "auth/remote_key_set.h"
#include "outbound/client.h"

namespace kerberus::ops {

class JwksFetcher final : public auth::KeySetFetcher {
public:
    explicit JwksFetcher(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
    ~JwksFetcher() override { stop(); }

    // The set for `url`, made on first use. Main thread.
    std::shared_ptr<auth::RemoteKeySet> key_set(const std::string& url);
    // From now on fetches go through `client`; every set known so far is
    // fetched at once. Main thread.
    void start(outbound::Client& client);
    // Cancels fetches in flight (their callbacks run first); no more
    // start. Before the client is destroyed. Main thread.
    void stop();

    void fetch(std::shared_ptr<auth::RemoteKeySet> set) override;

    // Who may call what under `config`, with this fetcher's key sets.
    // Throws config::ConfigError (see auth::AccessControl).
    std::shared_ptr<const auth::AccessControl> access_control(const config::Config& config);

private:
    struct Pending;
    static void done(void* user_data, const kerberus_outbound_response* response);

    std::shared_ptr<spdlog::logger> logger_;
    std::mutex mutex_;
    outbound::Client* client_ = nullptr;  // under mutex_
    std::map<std::string, std::shared_ptr<auth::RemoteKeySet>> sets_;
};

}  // namespace kerberus::ops
