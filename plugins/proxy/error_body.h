// The proxy's own errors, in the shape the daemon uses for its errors, so a
// client parses one format whoever answered.
#pragma once

#include <string>
#include <string_view>

namespace proxy {

// {"error":{"name":...,"message":...},"request":{"method":...,"url":...},
//  "response":{"statusCode":...}}; `url` is the raw path, as the daemon gives.
std::string error_body(int status, std::string_view message, std::string_view method, std::string_view url);

}  // namespace proxy
