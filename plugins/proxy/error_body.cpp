#include "error_body.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace proxy {
namespace {

// The daemon's names (Backstage's error classes) for the statuses the
// proxy answers itself.
const char* error_name(int status) {
    switch (status) {
        case 400: return "InputError";
        case 404: return "NotFoundError";
        case 405: return "MethodNotAllowedError";
        case 502: return "BadGatewayError";
        case 503: return "ServiceUnavailableError";
        case 504: return "GatewayTimeoutError";
        default: return status >= 500 ? "InternalServerError" : "Error";
    }
}

}  // namespace

std::string error_body(int status, std::string_view message, std::string_view method, std::string_view url) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    // RapidJSON asserts on a null pointer, which an empty view may hold.
    auto str = [&](std::string_view s) { w.String(s.empty() ? "" : s.data(), static_cast<rapidjson::SizeType>(s.size())); };
    w.StartObject();
    w.Key("error");
    w.StartObject();
    w.Key("name");
    w.String(error_name(status));
    w.Key("message");
    str(message);
    w.EndObject();
    w.Key("request");
    w.StartObject();
    w.Key("method");
    str(method);
    w.Key("url");
    str(url);
    w.EndObject();
    w.Key("response");
    w.StartObject();
    w.Key("statusCode");
    w.Int(status);
    w.EndObject();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace proxy
