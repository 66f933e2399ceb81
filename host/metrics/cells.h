// The counting cells behind every metric: relaxed atomics, so recording
// takes no lock and costs one uncontended add on the request path; a scrape
// reads them as they are.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace kerberus::metrics {

// A duration histogram in whole nanoseconds: integer adds are single
// instructions where a floating-point add is a compare-and-swap loop.
class DurationHistogram {
public:
    // Upper bounds in seconds (Prometheus' default buckets).
    static const std::vector<double>& bounds_seconds();

    void observe(uint64_t nanoseconds) {
        std::size_t i = 0;
        while (i < kBounds && nanoseconds > kBoundsNs[i]) ++i;
        buckets_[i].fetch_add(1, std::memory_order_relaxed);
        sum_ns_.fetch_add(nanoseconds, std::memory_order_relaxed);
    }

    // Per bucket, not cumulative; the last is +Inf.
    uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
    uint64_t sum_ns() const { return sum_ns_.load(std::memory_order_relaxed); }
    static constexpr std::size_t kBounds = 14;

private:
    static constexpr uint64_t kBoundsNs[kBounds] = {
        500'000,     1'000'000,   2'500'000,     5'000'000,     10'000'000,    25'000'000,    50'000'000,
        100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
    std::atomic<uint64_t> buckets_[kBounds + 1] = {};
    std::atomic<uint64_t> sum_ns_{0};
};

// A value plugins add to or set (counters and gauges).
class ValueCell {
public:
    void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    double get() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

// A histogram over bounds a plugin chose.
class ValueHistogram {
public:
    explicit ValueHistogram(std::vector<double> bounds)
        : bounds_(std::move(bounds)), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

    void observe(double v) {
        std::size_t i = 0;
        while (i < bounds_.size() && v > bounds_[i]) ++i;
        buckets_[i].fetch_add(1, std::memory_order_relaxed);
        sum_.add(v);
    }
    const std::vector<double>& bounds() const { return bounds_; }
    uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
    double sum() const { return sum_.get(); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
    ValueCell sum_;
};

}  // namespace kerberus::metrics
