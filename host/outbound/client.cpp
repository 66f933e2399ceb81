#include "outbound/client.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <utility>

#include "outbound/curl_engine.h"
#include "outbound/header_rules.h"
#include "outbound/http1_engine.h"
#include "outbound/plain_request.h"

namespace kerberus::outbound {
namespace {

// A request's fields are read only where the plugin's struct has them: a
// plugin built against an older minor passes a shorter struct.
#define KERBERUS_REQUEST_HAS(r, field) \
    ((r).struct_size >= offsetof(kerberus_outbound_request, field) + sizeof((r).field))

// kerberus_outbound_stream_fns as ABI 1.4 made it (up to on_body).
constexpr std::size_t KERBERUS_STREAM_FNS_SIZE_1_4 =
    offsetof(kerberus_outbound_stream_fns, on_body) + sizeof(kerberus_outbound_stream_fns::on_body);

}  // namespace

Client::Client(Settings settings, std::shared_ptr<spdlog::logger> logger)
    : settings_(settings),
      logger_(std::move(logger)),
      curl_(std::make_unique<CurlEngine>(settings_, ledger_)),
      http1_(std::make_unique<Http1Engine>(settings_, ledger_, resolver_)) {
    ledger_.wake_all = [this] { wake_engines(); };
}

Client::~Client() {
    {
        std::lock_guard lock(ledger_.mutex);
        ledger_.stopping = true;
        for (const auto& [id, owner] : ledger_.live) ledger_.cancels.insert(id);
    }
    // No lookup answers into an engine that is going away: the requests
    // waiting for one are cancelled above.
    resolver_.shutdown();
    // Each engine's destructor wakes it and joins its thread (or, never
    // driven, finishes its requests here).
    std::vector<std::unique_ptr<Http1Engine>> worker_engines;
    {
        std::lock_guard lock(worker_engines_mutex_);
        worker_engines.swap(worker_engines_);
    }
    worker_engines.clear();
    http1_.reset();
    curl_.reset();
}

namespace {

// A worker's engine as the worker sees it.
class EngineSidecar final : public net::Sidecar {
public:
    explicit EngineSidecar(Http1Engine& engine) : engine_(engine) {}
    int descriptor() const override { return engine_.poll_descriptor(); }
    void on_thread() override { engine_.attach_to_this_thread(); }
    void on_ready() override { engine_.poll(); }
    void after_batch() override { engine_.after_batch(); }
    bool needs_tick() const override { return engine_.needs_tick(); }
    void orphaned() override { engine_.orphaned(); }

private:
    Http1Engine& engine_;
};

}  // namespace

std::unique_ptr<net::Sidecar> Client::worker_engine() {
    auto engine = std::make_unique<Http1Engine>(settings_, ledger_, resolver_, true);
    Http1Engine& e = *engine;
    {
        std::lock_guard lock(worker_engines_mutex_);
        worker_engines_.push_back(std::move(engine));
    }
    return std::make_unique<EngineSidecar>(e);
}

kerberus_status Client::send(Owner owner, const kerberus_outbound_request& r, kerberus_outbound_done_fn done,
                             void* user_data, uint64_t* id, const kerberus_outbound_stream_fns* stream) {
    // A plugin built against ABI 1.4 passes the struct without on_body_writable.
    kerberus_outbound_stream_fns fns{};
    if (stream != nullptr) {
        if (stream->struct_size < KERBERUS_STREAM_FNS_SIZE_1_4 || stream->on_head == nullptr ||
            stream->on_body == nullptr) {
            return KERBERUS_ERR_INVALID;
        }
        std::memcpy(&fns, stream, std::min(stream->struct_size, sizeof fns));
        fns.struct_size = sizeof fns;
        stream = &fns;
    }
    if (done == nullptr || !KERBERUS_REQUEST_HAS(r, flags) || r.method == nullptr || r.url == nullptr) {
        return KERBERUS_ERR_INVALID;
    }
    const bool streamed_body = (r.flags & KERBERUS_OUTBOUND_STREAMED_BODY) != 0;
    if (streamed_body && (stream == nullptr || fns.on_body_writable == nullptr || r.body != nullptr)) {
        return KERBERUS_ERR_INVALID;
    }
    const bool upgrade = (r.flags & KERBERUS_OUTBOUND_UPGRADE) != 0;
    if (upgrade && !streamed_body) return KERBERUS_ERR_INVALID;
    std::string_view method(r.method), url(r.url);
    if (!is_token(method) || has_line_break(url) ||
        !(url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0)) {
        return KERBERUS_ERR_INVALID;
    }
    if ((r.header_count > 0 && r.headers == nullptr) || (!streamed_body && r.body_len > 0 && r.body == nullptr)) {
        return KERBERUS_ERR_INVALID;
    }
    for (std::size_t i = 0; i < r.header_count; ++i) {
        if (!is_token(view_of(r.headers[i].name)) || has_line_break(view_of(r.headers[i].value)))
            return KERBERUS_ERR_INVALID;
    }
    auto plain = parse_plain_url(url);
    // libcurl gives no raw connection after a 101.
    if (upgrade && !plain) return KERBERUS_ERR_INVALID;
    // libcurl frames a body of unknown length itself; the plain engine
    // sends the chunks the upload frames.
    std::shared_ptr<Upload> upload;
    if (streamed_body) {
        upload = std::make_shared<Upload>(upgrade ? KERBERUS_BODY_LENGTH_UNKNOWN : r.body_len,
                                          plain.has_value() && !upgrade);
    }
    if (plain) {
        Http1Engine* engine = Http1Engine::current();
        return (engine ? engine : http1_.get())->send(owner, r, *plain, done, user_data, id, stream, upload);
    }
    return curl_->send(owner, r, done, user_data, id, stream, upload);
}

std::shared_ptr<Upload> Client::upload_of(Owner owner, uint64_t id) {
    std::lock_guard lock(ledger_.mutex);
    auto live = ledger_.live.find(id);
    if (live == ledger_.live.end() || live->second != owner) return nullptr;
    auto it = ledger_.uploads.find(id);
    return it == ledger_.uploads.end() ? nullptr : it->second;
}

void Client::body_ready(uint64_t id) {
    {
        std::lock_guard lock(ledger_.mutex);
        if (!ledger_.uploads.count(id)) return;
        ledger_.body_ready.insert(id);
    }
    wake_engines();
}

kerberus_status Client::write_body(Owner owner, uint64_t id, std::string_view data) {
    std::shared_ptr<Upload> upload = upload_of(owner, id);
    if (!upload) return KERBERUS_ERR_NOT_FOUND;
    bool ready = false;
    kerberus_status s = upload->write(data, ready);
    if (ready) body_ready(id);
    return s;
}

kerberus_status Client::end_body(Owner owner, uint64_t id) {
    std::shared_ptr<Upload> upload = upload_of(owner, id);
    if (!upload) return KERBERUS_ERR_NOT_FOUND;
    bool ready = false;
    kerberus_status s = upload->end(ready);
    if (ready) body_ready(id);
    return s;
}

void Client::wake_engines() {
    http1_->wake();
    curl_->wake();
    std::lock_guard lock(worker_engines_mutex_);
    for (const auto& engine : worker_engines_) engine->wake();
}

kerberus_status Client::ask(std::unordered_set<uint64_t> Ledger::*requests, Owner owner, uint64_t id) {
    {
        std::lock_guard lock(ledger_.mutex);
        auto it = ledger_.live.find(id);
        if (it == ledger_.live.end() || it->second != owner) return KERBERUS_ERR_NOT_FOUND;
        (ledger_.*requests).insert(id);
    }
    wake_engines();
    return KERBERUS_OK;
}

kerberus_status Client::cancel(Owner owner, uint64_t id) { return ask(&Ledger::cancels, owner, id); }

kerberus_status Client::resume(Owner owner, uint64_t id) { return ask(&Ledger::resumes, owner, id); }

void Client::cancel_owner(Owner owner) {
    std::unique_lock lock(ledger_.mutex);
    auto owns_any = [&] {
        for (const auto& [id, o] : ledger_.live) {
            if (o == owner) return true;
        }
        return false;
    };
    for (const auto& [id, o] : ledger_.live) {
        if (o == owner) ledger_.cancels.insert(id);
    }
    wake_engines();
    ledger_.idle.wait(lock, [&] { return !owns_any(); });
}

}  // namespace kerberus::outbound
