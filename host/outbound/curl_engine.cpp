#include "outbound/curl_engine.h"

#include <cstddef>
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "common/fault_report.h"
#include "outbound/header_rules.h"

namespace kerberus::outbound {

struct CurlEngine::Transfer {
    uint64_t id = 0;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string method, url, body;
    kerberus_outbound_done_fn done = nullptr;
    void* user_data = nullptr;
    uint64_t max_bytes = 0;  // 0: none (a streamed answer without a limit)
    uint64_t received = 0;
    bool too_large = false;
    // Streamed (outbound_stream): the answer goes out in pieces.
    bool streaming = false;
    kerberus_outbound_stream_fns stream{};
    bool head_delivered = false;
    bool paused = false;
    // A streamed request body (ABI 1.5), taken from the upload as libcurl
    // asks for it.
    std::shared_ptr<Upload> upload;
    std::string upload_buffer;
    std::size_t upload_offset = 0;
    bool upload_last = false;
    bool upload_paused = false;
    bool upload_short = false;
    std::string response_body;
    std::vector<std::pair<std::string, std::string>> response_headers;
    char error[CURL_ERROR_SIZE] = {};

    ~Transfer() {
        if (easy) curl_easy_cleanup(easy);
        curl_slist_free_all(headers);
    }

    static size_t on_body(char* data, size_t size, size_t count, void* self) {
        auto* t = static_cast<Transfer*>(self);
        std::size_t n = size * count;
        if (t->max_bytes != 0 && n > t->max_bytes - t->received) {
            t->too_large = true;
            return 0;  // aborts the transfer with CURLE_WRITE_ERROR
        }
        t->received += n;
        if (!t->streaming) {
            t->response_body.append(data, n);
            return n;
        }
        t->deliver_head();
        if (t->stream.on_body(t->user_data, data, n) == KERBERUS_BUSY) {
            // Taken; nothing more until the plugin resumes (allowed from
            // inside a write callback).
            t->paused = true;
            curl_easy_pause(t->easy, CURLPAUSE_RECV);
        }
        return n;
    }

    static size_t on_read(char* buffer, size_t size, size_t count, void* self) {
        auto* t = static_cast<Transfer*>(self);
        if (t->upload_offset == t->upload_buffer.size()) {
            if (t->upload_last) return 0;  // the end of the body
            t->upload_buffer.clear();
            t->upload_offset = 0;
            bool writable = false;
            Upload::Taken taken = t->upload->take(t->upload_buffer, writable);
            if (taken == Upload::Taken::short_body) {
                t->upload_short = true;
                return CURL_READFUNC_ABORT;
            }
            if (taken == Upload::Taken::complete) t->upload_last = true;
            if (writable) t->stream.on_body_writable(t->user_data);
            if (taken == Upload::Taken::waiting) {
                t->upload_paused = true;  // body_ready unpauses it
                return CURL_READFUNC_PAUSE;
            }
            if (t->upload_buffer.empty()) return 0;
        }
        std::size_t n = std::min(size * count, t->upload_buffer.size() - t->upload_offset);
        std::memcpy(buffer, t->upload_buffer.data() + t->upload_offset, n);
        t->upload_offset += n;
        return n;
    }

    void deliver_head() {
        if (head_delivered) return;
        head_delivered = true;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        std::vector<kerberus_header> headers = header_views();
        stream.on_head(user_data, static_cast<int>(status), headers.data(), headers.size());
    }

    std::vector<kerberus_header> header_views() const {
        std::vector<kerberus_header> headers;
        headers.reserve(response_headers.size());
        for (const auto& [name, value] : response_headers) {
            headers.push_back(kerberus_header{{name.data(), name.size()}, {value.data(), value.size()}});
        }
        return headers;
    }

    static size_t on_header(char* data, size_t size, size_t count, void* self) {
        auto* t = static_cast<Transfer*>(self);
        std::size_t n = size * count;
        std::string_view line(data, n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (line.rfind("HTTP/", 0) == 0) {
            // A new status line: an interim response (100 Continue) ended.
            t->response_headers.clear();
        } else if (auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
            t->response_headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
        }
        return n;
    }
};

CurlEngine::CurlEngine(const Settings& settings, Ledger& ledger) : settings_(settings), ledger_(ledger) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings_.max_connections_per_host);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, settings_.max_cached_connections);
    multi_ = multi;
    thread_ = std::thread([this] { run(); });
}

CurlEngine::~CurlEngine() {
    wake();
    thread_.join();
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void CurlEngine::wake() { curl_multi_wakeup(static_cast<CURLM*>(multi_)); }

kerberus_status CurlEngine::send(Ledger::Owner owner, const kerberus_outbound_request& r,
                                 kerberus_outbound_done_fn done, void* user_data, uint64_t* id,
                                 const kerberus_outbound_stream_fns* stream, std::shared_ptr<Upload> upload) {
    std::string_view method(r.method), url(r.url);
    auto t = std::make_unique<Transfer>();
    t->upload = upload;
    t->method = method;
    t->url = url;
    if (!upload) t->body.assign(r.body ? r.body : "", r.body_len);  // a streamed body's body_len is its length
    t->done = done;
    t->user_data = user_data;
    t->max_bytes = r.max_response_bytes ? r.max_response_bytes : settings_.max_response_bytes;
    if (stream != nullptr) {
        t->streaming = true;
        t->stream = *stream;
        t->max_bytes = r.max_response_bytes;
    }

    bool has_accept = false, has_content_type = false;
    for (std::size_t i = 0; i < r.header_count; ++i) {
        std::string_view name = view_of(r.headers[i].name), value = view_of(r.headers[i].value);
        // libcurl computes these from the body it sends.
        if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
        has_accept |= iequals(name, "accept");
        has_content_type |= iequals(name, "content-type");
        std::string line(name);
        // "Name;" is libcurl's way to send a header with an empty value.
        line += value.empty() ? ";" : ": ";
        line += value;
        t->headers = curl_slist_append(t->headers, line.c_str());
    }
    // Headers libcurl would add on its own; the caller decides instead.
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (!has_accept) t->headers = curl_slist_append(t->headers, "Accept:");
    if (!has_content_type) t->headers = curl_slist_append(t->headers, "Content-Type:");

    CURL* e = curl_easy_init();
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (t->upload) {
        // UPLOAD reads the body from on_read; the method stays the caller's.
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method.c_str());
        curl_easy_setopt(e, CURLOPT_READFUNCTION, &Transfer::on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, t.get());
        // -1 (unknown) makes libcurl send it chunked.
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                         t->upload->chunked() ? curl_off_t{-1} : static_cast<curl_off_t>(t->upload->length()));
    } else if (t->method == "HEAD") {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method.c_str());
        bool sends_body = !t->body.empty() || t->method == "POST" || t->method == "PUT" || t->method == "PATCH";
        if (sends_body) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
        }
    }
    long connect_ms = r.connect_timeout_ms ? r.connect_timeout_ms : settings_.connect_timeout.count();
    long total_ms = r.timeout_ms ? r.timeout_ms : settings_.total_timeout.count();
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    if (t->streaming) {
        // No total for a stream: it fails when less than a byte a second
        // came in over the timeout (libcurl does not count paused time).
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, std::max(1L, (total_ms + 999) / 1000));
    } else {
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
    }
    if (t->max_bytes != 0) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t->max_bytes));
    bool insecure = (r.flags & KERBERUS_OUTBOUND_INSECURE_TLS) != 0;
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());

    {
        std::lock_guard lock(ledger_.mutex);
        if (!ledger_.admit_locked(owner, t->id)) return KERBERUS_ERR_STATE;
        if (id) *id = t->id;
        if (upload) ledger_.uploads.emplace(t->id, std::move(upload));
        incoming_.push_back(std::move(t));
    }
    curl_multi_wakeup(static_cast<CURLM*>(multi_));
    return KERBERUS_OK;
}

void CurlEngine::start(std::unique_ptr<Transfer> t) {
    CURL* easy = t->easy;
    uint64_t id = t->id;
    running_.emplace(id, std::move(t));
    if (CURLMcode rc = curl_multi_add_handle(static_cast<CURLM*>(multi_), easy); rc != CURLM_OK) {
        auto it = running_.find(id);
        finish(it->second.get(), KERBERUS_ERR_UNREACHABLE, curl_multi_strerror(rc));
        running_.erase(it);
    }
}

void CurlEngine::finish(Transfer* t, kerberus_status result, const char* error) {
    std::vector<kerberus_header> headers;
    if (result == KERBERUS_OK) {
        // An answer without a body (HEAD, 204, empty) never reached on_body.
        if (t->streaming) t->deliver_head();
        headers = t->header_views();
    }
    long status = 0;
    if (result == KERBERUS_OK) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    kerberus_outbound_response response{};
    response.struct_size = sizeof(response);
    response.result = result;
    response.status = static_cast<int>(status);
    response.headers = headers.data();
    response.header_count = headers.size();
    response.body = result == KERBERUS_OK ? kerberus_str{t->response_body.data(), t->response_body.size()}
                                          : kerberus_str{"", 0};
    response.error = error ? error : "";
    t->done(t->user_data, &response);
    ledger_.finished(t->id);
}

void CurlEngine::apply_cancels() {
    std::vector<uint64_t> ids;
    {
        std::lock_guard lock(ledger_.mutex);
        for (uint64_t id : ledger_.cancels) {
            if (running_.count(id)) ids.push_back(id);
        }
    }
    for (uint64_t id : ids) {
        auto it = running_.find(id);
        curl_multi_remove_handle(static_cast<CURLM*>(multi_), it->second->easy);
        finish(it->second.get(), KERBERUS_ERR_CANCELLED, "cancelled");
        running_.erase(it);
    }
}

void CurlEngine::apply_resumes() {
    std::vector<Transfer*> resumed;
    {
        std::lock_guard lock(ledger_.mutex);
        if (ledger_.resumes.empty()) return;
        for (auto& [id, t] : running_) {
            if (t->paused && ledger_.resumes.erase(id) > 0) resumed.push_back(t.get());
        }
    }
    for (Transfer* t : resumed) {
        t->paused = false;
        curl_easy_pause(t->easy, t->upload_paused ? CURLPAUSE_SEND : CURLPAUSE_CONT);
    }
}

void CurlEngine::apply_body_ready() {
    std::vector<Transfer*> ready;
    {
        std::lock_guard lock(ledger_.mutex);
        if (ledger_.body_ready.empty()) return;
        for (auto& [id, t] : running_) {
            if (t->upload && ledger_.body_ready.erase(id) > 0) ready.push_back(t.get());
        }
    }
    for (Transfer* t : ready) {
        if (!t->upload_paused) continue;  // libcurl asks again by itself
        t->upload_paused = false;
        curl_easy_pause(t->easy, t->paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
    }
}

void CurlEngine::finish_done_transfers() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(static_cast<CURLM*>(multi_), &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(static_cast<CURLM*>(multi_), msg->easy_handle);
        kerberus_status result = KERBERUS_OK;
        const char* error = nullptr;
        if (code == CURLE_OPERATION_TIMEDOUT) {
            result = KERBERUS_ERR_TIMEOUT;
        } else if ((code == CURLE_WRITE_ERROR && t->too_large) || code == CURLE_FILESIZE_EXCEEDED) {
            result = KERBERUS_ERR_TOO_LARGE;
            error = "response body larger than the limit";
        } else if (code == CURLE_ABORTED_BY_CALLBACK && t->upload_short) {
            result = KERBERUS_ERR_INVALID;
            error = "the request body ended before the length stated for it";
        } else if (code != CURLE_OK) {
            result = KERBERUS_ERR_UNREACHABLE;
        }
        if (result != KERBERUS_OK && error == nullptr) error = t->error[0] ? t->error : curl_easy_strerror(code);
        uint64_t id = t->id;
        finish(t, result, error);
        running_.erase(id);
    }
}

void CurlEngine::run() {
    fault_report::prepare_thread();  // plugins' callbacks run here
    CURLM* multi = static_cast<CURLM*>(multi_);
    for (;;) {
        std::deque<std::unique_ptr<Transfer>> fresh;
        bool stopping;
        {
            std::lock_guard lock(ledger_.mutex);
            fresh.swap(incoming_);
            stopping = ledger_.stopping;
        }
        for (auto& t : fresh) {
            bool cancelled;
            {
                std::lock_guard lock(ledger_.mutex);
                cancelled = ledger_.cancels.count(t->id) > 0;
            }
            if (cancelled) {
                finish(t.get(), KERBERUS_ERR_CANCELLED, "cancelled");
            } else {
                start(std::move(t));
            }
        }
        apply_cancels();
        apply_resumes();
        apply_body_ready();
        if (stopping && running_.empty()) {
            std::lock_guard lock(ledger_.mutex);
            if (incoming_.empty()) return;
            continue;
        }
        int still_running = 0;
        curl_multi_perform(multi, &still_running);
        finish_done_transfers();
        curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
}

}  // namespace kerberus::outbound
