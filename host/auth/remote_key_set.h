// The JSON Web Key Set of one `auth.externalAccess` entry of type jwks: the
// last copy fetched from its URL, shared by every reload's configuration
// while the URL stays the same, and fetched again when it grows old or a
// token names a key it lacks (keys rotate). The fetching itself belongs to
// whoever owns the daemon's outbound client (ops/jwks_fetcher.h); this side
// only says when a fetch is due, never more often than kMinRefetch.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "auth/jwks.h"

namespace kerberus::auth {

class RemoteKeySet;

// Fetches a set's URL and hands the outcome to RemoteKeySet::fetched or
// fetch_failed, later, on any thread.
class KeySetFetcher {
public:
    virtual ~KeySetFetcher() = default;
    virtual void fetch(std::shared_ptr<RemoteKeySet> set) = 0;
};

class RemoteKeySet : public std::enable_shared_from_this<RemoteKeySet> {
public:
    using Clock = std::chrono::steady_clock;
    // jose's createRemoteJWKSet waits 30 s between fetches for unknown keys
    // and keeps a set 10 minutes (Backstage verifies jwks tokens with it).
    static constexpr std::chrono::seconds kMinRefetch{30};
    static constexpr std::chrono::minutes kMaxAge{10};

    RemoteKeySet(std::string url, KeySetFetcher& fetcher) : url_(std::move(url)), fetcher_(fetcher) {}

    const std::string& url() const { return url_; }
    // The last set fetched; null until a fetch succeeded.
    std::shared_ptr<const KeySet> keys() const { return keys_.load(std::memory_order_acquire); }

    // Starts a fetch unless one started less than kMinRefetch ago (or is
    // running). `stale_only`: only when the set is older than kMaxAge.
    void refresh(bool stale_only = false, Clock::time_point now = Clock::now());

    // The fetcher's outcome.
    void fetched(std::shared_ptr<const KeySet> keys, Clock::time_point now = Clock::now());
    void fetch_failed();

private:
    const std::string url_;
    KeySetFetcher& fetcher_;
    std::atomic<std::shared_ptr<const KeySet>> keys_;
    std::atomic<Clock::rep> fetched_at_{0};    // 0: never
    std::atomic<Clock::rep> requested_at_{0};  // 0: never
    std::atomic<bool> running_{false};
};

}  // namespace kerberus::auth
