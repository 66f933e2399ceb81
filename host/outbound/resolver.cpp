#include "outbound/resolver.h"

#include <netdb.h>

#include <cstring>

namespace kerberus::outbound {

Resolver::Resolver() {
    for (std::size_t i = 0; i < kThreads; ++i) threads_.emplace_back([this] { run(); });
}

Resolver::~Resolver() { shutdown(); }

void Resolver::shutdown() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        waiting_.clear();
        queue_.clear();
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

bool Resolver::lookup(const std::string& host, uint16_t port, Resolved& out, Done done) {
    Key key{host, port};
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    if (auto it = cache_.find(key); it != cache_.end()) {
        if (Clock::now() < it->second.until) {
            out = it->second.answer;
            return true;
        }
        cache_.erase(it);
    }
    auto [it, fresh] = waiting_.try_emplace(key);
    it->second.push_back(std::move(done));
    if (fresh) {
        queue_.push_back(key);
        wake_.notify_one();
    }
    return false;
}

Resolved Resolver::resolve(const Key& key) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(key.second);
    Resolved out;
    if (int rc = ::getaddrinfo(key.first.c_str(), port.c_str(), &hints, &list); rc != 0) {
        out.error = "cannot resolve " + key.first + ": " + ::gai_strerror(rc);
        return out;
    }
    for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
        if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
        Address address;
        std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
        address.length = a->ai_addrlen;
        out.addresses.push_back(address);
    }
    ::freeaddrinfo(list);
    if (out.addresses.empty()) out.error = "cannot resolve " + key.first + ": no address";
    return out;
}

void Resolver::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        Key key = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        Resolved answer = resolve(key);
        lock.lock();
        if (stopping_) return;
        // Failures are not kept: the next request asks again.
        if (answer.error.empty()) cache_[key] = Entry{answer, Clock::now() + kKeep};
        std::vector<Done> done = std::move(waiting_[key]);
        waiting_.erase(key);
        lock.unlock();
        for (Done& d : done) d(answer);
        lock.lock();
    }
}

}  // namespace kerberus::outbound
