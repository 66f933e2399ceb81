#include "auth/remote_key_set.h"

namespace kerberus::auth {

void RemoteKeySet::refresh(bool stale_only, Clock::time_point at) {
    const Clock::rep now = at.time_since_epoch().count();
    const auto ticks = [](auto duration) { return std::chrono::duration_cast<Clock::duration>(duration).count(); };
    const Clock::rep fetched = fetched_at_.load(std::memory_order_relaxed);
    if (stale_only && fetched != 0 && now - fetched < ticks(kMaxAge)) return;
    Clock::rep requested = requested_at_.load(std::memory_order_relaxed);
    if (requested != 0 && now - requested < ticks(kMinRefetch)) return;
    if (running_.load(std::memory_order_relaxed)) return;
    // One caller of many racing here wins the fetch.
    if (!requested_at_.compare_exchange_strong(requested, now, std::memory_order_relaxed)) return;
    bool idle = false;
    if (!running_.compare_exchange_strong(idle, true, std::memory_order_acq_rel)) return;
    fetcher_.fetch(shared_from_this());
}

void RemoteKeySet::fetched(std::shared_ptr<const KeySet> keys, Clock::time_point at) {
    keys_.store(std::move(keys), std::memory_order_release);
    fetched_at_.store(at.time_since_epoch().count(), std::memory_order_relaxed);
    running_.store(false, std::memory_order_release);
}

void RemoteKeySet::fetch_failed() { running_.store(false, std::memory_order_release); }

}  // namespace kerberus::auth
