#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <mutex>

#include <curl/curl.h>

namespace kerberus::test {

namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) return v;
    return std::nullopt;
}

void ensure_curl_global() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* response = static_cast<Response*>(user);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        // A new status line (after a 100 Continue or a redirect): start over.
        response->headers.clear();
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                       std::string(trim(line.substr(colon + 1))));
    }
    return size * count;
}

Response run(CURL* curl, const Request& request) {
    Response response;
    curl_slist* headers = nullptr;
    // curl would otherwise wait for 100 Continue on larger bodies.
    headers = curl_slist_append(headers, "Expect:");
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, request.path_as_is ? 1L : 0L);
    if (!request.unix_socket.empty()) curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    if (!request.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_file.c_str());
    if (!request.client_cert.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, request.client_cert.c_str());
    if (!request.client_key.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, request.client_key.c_str());
    if (request.method == "HEAD") {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
        if (request.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        response.error = curl_easy_strerror(rc);
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    }
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &response.num_connects);
    curl_slist_free_all(headers);
    return response;
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const { return find_header(headers, name); }
std::optional<std::string> RawResponse::header(std::string_view name) const { return find_header(headers, name); }

Response perform(const Request& request) {
    Session session;
    return session.perform(request);
}

Response get(const std::string& url) {
    Request r;
    r.url = url;
    return perform(r);
}

Response post(const std::string& url, std::string body, std::string content_type) {
    Request r;
    r.method = "POST";
    r.url = url;
    r.body = std::move(body);
    r.headers.push_back("Content-Type: " + content_type);
    return perform(r);
}

Session::Session() {
    ensure_curl_global();
    curl_ = curl_easy_init();
}

Session::~Session() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Response Session::perform(const Request& request) {
    auto* curl = static_cast<CURL*>(curl_);
    // Reset options but keep the connection cache: that is the point.
    curl_easy_reset(curl);
    return run(curl, request);
}

// ---------------------------------------------------------------------------

RawConnection::RawConnection(uint16_t port, const char* source) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    if (source != nullptr) {
        sockaddr_in from{};
        from.sin_family = AF_INET;
        if (::inet_pton(AF_INET, source, &from.sin_addr) != 1 ||
            ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        fd_ = -1;
        return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
    if (fd_ < 0) return false;
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

bool RawConnection::shutdown_write() { return fd_ >= 0 && ::shutdown(fd_, SHUT_WR) == 0; }

bool RawConnection::fill(Clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        char chunk[16 * 1024];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
    }
}

std::optional<RawResponse> RawConnection::read_response(std::chrono::milliseconds timeout, bool head_request) {
    auto deadline = Clock::now() + timeout;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
        if (!fill(deadline)) return std::nullopt;

    RawResponse response;
    std::string_view head(buffer_.data(), head_end);
    auto first_eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, first_eol);
    auto sp1 = status_line.find(' ');
    if (sp1 == std::string_view::npos || !status_line.starts_with("HTTP/")) return std::nullopt;
    response.version = std::string(status_line.substr(0, sp1));
    response.status = std::atoi(std::string(status_line.substr(sp1 + 1, 3)).c_str());
    if (first_eol != std::string_view::npos) {
        std::string_view rest = head.substr(first_eol + 2);
        while (!rest.empty()) {
            auto eol = rest.find("\r\n");
            std::string_view line = rest.substr(0, eol);
            if (auto colon = line.find(':'); colon != std::string_view::npos)
                response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                              std::string(trim(line.substr(colon + 1))));
            if (eol == std::string_view::npos) break;
            rest.remove_prefix(eol + 2);
        }
    }
    buffer_.erase(0, head_end + 4);

    bool no_body = head_request || response.status / 100 == 1 || response.status == 204 || response.status == 304;
    auto te = response.header("Transfer-Encoding");
    auto cl = response.header("Content-Length");
    if (no_body) {
        return response;
    } else if (te && te->find("chunked") != std::string::npos) {
        while (true) {
            size_t eol;
            while ((eol = buffer_.find("\r\n")) == std::string::npos)
                if (!fill(deadline)) return std::nullopt;
            size_t size = std::strtoul(buffer_.substr(0, eol).c_str(), nullptr, 16);
            buffer_.erase(0, eol + 2);
            if (size == 0) {
                // Trailers (if any) end with an empty line.
                while ((eol = buffer_.find("\r\n")) != 0) {
                    if (eol == std::string::npos) {
                        if (!fill(deadline)) return std::nullopt;
                    } else {
                        buffer_.erase(0, eol + 2);
                    }
                }
                buffer_.erase(0, 2);
                break;
            }
            while (buffer_.size() < size + 2)
                if (!fill(deadline)) return std::nullopt;
            response.body.append(buffer_, 0, size);
            buffer_.erase(0, size + 2);
        }
    } else if (cl) {
        size_t size = std::strtoul(cl->c_str(), nullptr, 10);
        while (buffer_.size() < size)
            if (!fill(deadline)) return std::nullopt;
        response.body = buffer_.substr(0, size);
        buffer_.erase(0, size);
    } else {
        while (fill(deadline)) {
        }
        if (!eof_) return std::nullopt;
        response.body = std::move(buffer_);
        buffer_.clear();
    }
    return response;
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!eof_) {
        if (!fill(deadline) && !eof_) return false;
    }
    return true;
}

std::string RawConnection::read_to_close(std::chrono::milliseconds timeout) {
    if (!closed_by_peer(timeout)) return {};
    return std::exchange(buffer_, {});
}

bool RawConnection::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (buffer_.find(needle) == std::string::npos) {
        if (!fill(deadline)) return false;
    }
    return true;
}

bool RawConnection::read_at_least(std::size_t size, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (buffer_.size() < size) {
        if (!fill(deadline)) return false;
    }
    return true;
}

std::size_t RawConnection::drain_to_close(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    std::size_t total = 0;
    for (;;) {
        total += buffer_.size();
        buffer_.clear();
        if (!fill(deadline)) return total;
    }
}

void RawConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool RawConnection::stays_open(std::chrono::milliseconds quiet) {
    size_t before = buffer_.size();
    fill(Clock::now() + quiet);
    return !eof_ && buffer_.size() == before && fd_ >= 0;
}

std::optional<RawResponse> raw_exchange(uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout) {
    RawConnection c(port);
    if (!c.send(bytes)) return std::nullopt;
    return c.read_response(timeout);
}

std::string raw_get(std::string_view target) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

// ---------------------------------------------------------------------------

rapidjson::Document parse_json(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    return doc;
}

std::optional<std::string> json_string(const rapidjson::Value& object, const char* name) {
    if (!object.IsObject()) return std::nullopt;
    auto it = object.FindMember(name);
    if (it == object.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

const rapidjson::Value* find_by(const rapidjson::Value& array, const char* field, const std::string& value) {
    if (!array.IsArray()) return nullptr;
    for (const auto& item : array.GetArray()) {
        if (json_string(item, field) == value) return &item;
    }
    return nullptr;
}

::testing::AssertionResult is_error_response(long status, std::string_view content_type, std::string_view body,
                                             long expected_status, std::string_view method, std::string_view url,
                                             std::string_view name) {
    auto fail = [&]() {
        return ::testing::AssertionFailure() << "status " << status << ", Content-Type '" << content_type
                                             << "', body: " << body << "\n  ";
    };
    if (status != expected_status) return fail() << "expected status " << expected_status;
    if (!content_type.starts_with("application/json")) return fail() << "expected a JSON Content-Type";
    auto doc = parse_json(body);
    if (doc.HasParseError() || !doc.IsObject()) return fail() << "body is not a JSON object";
    if (!doc.HasMember("error") || !doc["error"].IsObject()) return fail() << "no error object";
    auto error_name = json_string(doc["error"], "name");
    if (!error_name || error_name->empty()) return fail() << "error.name missing";
    if (!name.empty() && *error_name != name) return fail() << "expected error.name " << name;
    if (!json_string(doc["error"], "message")) return fail() << "error.message missing";
    if (!doc.HasMember("request") || !doc["request"].IsObject()) return fail() << "no request object";
    if (json_string(doc["request"], "method") != std::string(method)) return fail() << "expected request.method " << method;
    if (json_string(doc["request"], "url") != std::string(url)) return fail() << "expected request.url " << url;
    if (!doc.HasMember("response") || !doc["response"].IsObject()) return fail() << "no response object";
    const auto& resp = doc["response"];
    if (!resp.HasMember("statusCode") || !resp["statusCode"].IsInt() || resp["statusCode"].GetInt() != expected_status)
        return fail() << "expected response.statusCode " << expected_status;
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_error_response(const Response& r, long expected_status, std::string_view method,
                                             std::string_view url, std::string_view name) {
    if (!r.error.empty()) return ::testing::AssertionFailure() << "transfer failed: " << r.error;
    return is_error_response(r.status, r.header("Content-Type").value_or(""), r.body, expected_status, method, url,
                             name);
}

::testing::AssertionResult is_error_response(const RawResponse& r, long expected_status, std::string_view method,
                                             std::string_view url, std::string_view name) {
    return is_error_response(r.status, r.header("Content-Type").value_or(""), r.body, expected_status, method, url,
                             name);
}

}  // namespace kerberus::test
