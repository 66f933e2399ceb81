#include "tls/acceptor.h"

namespace kerberus::tls {
namespace {

std::atomic<uint64_t> failures{0};

}  // namespace

uint64_t handshake_failures() { return failures.load(std::memory_order_relaxed); }

Acceptor::Acceptor(std::shared_ptr<const Context> context, std::shared_ptr<spdlog::logger> log)
    : context_(std::move(context)), log_(std::move(log)) {}

std::unique_ptr<Session> Acceptor::start() const { return std::make_unique<Session>(*current()); }

void Acceptor::replace(std::shared_ptr<const Context> context) {
    context_.store(std::move(context), std::memory_order_release);
}

void Acceptor::handshake_failed(const std::string& remote, const std::string& why) const {
    failures.fetch_add(1, std::memory_order_relaxed);
    log_->debug("TLS handshake with {} failed: {}", remote, why);
}

void Acceptor::session_failed(const std::string& remote, const std::string& why) const {
    log_->debug("TLS connection with {} broke: {}", remote, why);
}

}  // namespace kerberus::tls
