#include "header_forwarding.h"

#include <algorithm>

namespace proxy {

void UpstreamHeaders::add_client_header(std::string_view name, std::string_view value) {
    if (iequals(name, "host")) {
        if (!has_host_) host_.assign(value);
        has_host_ = true;
    } else if (iequals(name, "x-forwarded-for")) {
        if (!forwarded_for_.empty()) forwarded_for_ += ", ";
        forwarded_for_.append(value);
    } else if (iequals(name, "connection")) {
        connection_.add_list(value);
    }
    if (ep_.header_policy.request.contains(name)) out_.emplace_back(name, value);
}

void UpstreamHeaders::finish(std::string_view remote_address, std::string_view request_id) {
    if (!connection_.empty()) {
        out_.erase(std::remove_if(out_.begin(), out_.end(),
                                  [this](const auto& header) { return connection_.contains(header.first); }),
                   out_.end());
    }
    const HeaderNameSet& own = ep_.header_names;
    if (!own.contains("host")) {
        // Host goes first, where clients put it.
        if (ep_.change_origin) {
            out_.emplace(out_.begin(), "Host", ep_.target.authority);
        } else if (has_host_) {
            out_.emplace(out_.begin(), "Host", host_);
        }
    }
    if (!own.contains("x-forwarded-for")) {
        std::string chain = std::move(forwarded_for_);
        if (!remote_address.empty()) {
            if (!chain.empty()) chain += ", ";
            chain.append(remote_address);
        }
        if (!chain.empty()) out_.emplace_back("X-Forwarded-For", std::move(chain));
    }
    if (!own.contains("x-forwarded-proto")) out_.emplace_back("X-Forwarded-Proto", "http");
    if (has_host_ && !own.contains("x-forwarded-host")) out_.emplace_back("X-Forwarded-Host", host_);
    if (!request_id.empty() && !own.contains("x-request-id")) {
        // An allowlisted client copy would say the same twice.
        out_.erase(std::remove_if(out_.begin(), out_.end(),
                                  [](const auto& header) { return iequals(header.first, "x-request-id"); }),
                   out_.end());
        out_.emplace_back("X-Request-Id", request_id);
    }
    out_.insert(out_.end(), ep_.headers.begin(), ep_.headers.end());
}

}  // namespace proxy
