// The JSON body of every error the host answers itself. Shaped like
// Backstage's ErrorResponseBody so clients of either parse one format:
// {"error":{"name":"NotFoundError","message":"..."},
//  "request":{"method":"GET","url":"/api/x"},"response":{"statusCode":404}}
#pragma once

#include <string>
#include <string_view>

namespace kerberus::http {

// Backstage's error name for a status ("NotFoundError", ...).
const char* error_name(int status);

std::string error_body(int status, std::string_view message, std::string_view method, std::string_view url);

}  // namespace kerberus::http
