#include "ops/jwks_fetcher.h"

#include <exception>

#include "auth/jwks.h"

namespace kerberus::ops {

// A key set is a few KiB; an identity provider answering megabytes is wrong.
constexpr uint64_t kMaxKeySetBytes = 1024 * 1024;
constexpr uint32_t kFetchTimeoutMs = 10'000;

struct JwksFetcher::Pending {
    std::shared_ptr<auth::RemoteKeySet> set;
    std::shared_ptr<spdlog::logger> logger;
};

std::shared_ptr<auth::RemoteKeySet> JwksFetcher::key_set(const std::string& url) {
    std::lock_guard lock(mutex_);
    auto [it, added] = sets_.try_emplace(url);
    if (added) it->second = std::make_shared<auth::RemoteKeySet>(url, *this);
    return it->second;
}

std::shared_ptr<const auth::AccessControl> JwksFetcher::access_control(const config::Config& config) {
    return std::make_shared<const auth::AccessControl>(config, [this](const std::string& url) { return key_set(url); });
}

void JwksFetcher::start(outbound::Client& client) {
    std::vector<std::shared_ptr<auth::RemoteKeySet>> sets;
    {
        std::lock_guard lock(mutex_);
        client_ = &client;
        for (const auto& [url, set] : sets_) sets.push_back(set);
    }
    for (const auto& set : sets) set->refresh();
}

void JwksFetcher::stop() {
    outbound::Client* client = nullptr;
    {
        std::lock_guard lock(mutex_);
        std::swap(client, client_);
    }
    if (client != nullptr) client->cancel_owner(this);
}

void JwksFetcher::fetch(std::shared_ptr<auth::RemoteKeySet> set) {
    std::lock_guard lock(mutex_);
    if (client_ == nullptr) {
        set->fetch_failed();  // not started (--check) or stopped
        return;
    }
    const kerberus_header accept{{"Accept", 6}, {"application/json", 16}};
    kerberus_outbound_request request{};
    request.struct_size = sizeof request;
    request.method = "GET";
    request.url = set->url().c_str();
    request.headers = &accept;
    request.header_count = 1;
    request.timeout_ms = kFetchTimeoutMs;
    request.max_response_bytes = kMaxKeySetBytes;
    auto* pending = new Pending{set, logger_};
    uint64_t id = 0;
    if (client_->send(this, request, &JwksFetcher::done, pending, &id) != KERBERUS_OK) {
        logger_->error("auth: cannot fetch the key set {}: the request was refused", set->url());
        delete pending;
        set->fetch_failed();
    }
}

void JwksFetcher::done(void* user_data, const kerberus_outbound_response* response) {
    std::unique_ptr<Pending> pending(static_cast<Pending*>(user_data));
    auth::RemoteKeySet& set = *pending->set;
    spdlog::logger& log = *pending->logger;
    const bool had_keys = set.keys() != nullptr;
    const char* keeping = had_keys ? "; keeping the keys fetched before" : "; its tokens fail until a fetch succeeds";
    if (response->result != KERBERUS_OK) {
        log.error("auth: cannot fetch the key set {}: {}{}", set.url(), response->error ? response->error : "failed",
                  keeping);
        set.fetch_failed();
        return;
    }
    if (response->status != 200) {
        log.error("auth: the key set {} answered {}{}", set.url(), response->status, keeping);
        set.fetch_failed();
        return;
    }
    try {
        auto keys = std::make_shared<const auth::KeySet>(
            auth::KeySet::parse(std::string_view(response->body.data, response->body.len)));
        log.info("auth: fetched the key set {}: {}", set.url(), keys->summary());
        set.fetched(std::move(keys));
    } catch (const std::exception& e) {
        log.error("auth: the key set {} is not usable: {}{}", set.url(), e.what(), keeping);
        set.fetch_failed();
    }
}

}  // namespace kerberus::ops
