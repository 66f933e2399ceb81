#include "http/error_body.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kerberus::http {

const char* error_name(int status) {
    switch (status) {
        case 400: return "InputError";
        case 401: return "AuthenticationError";
        case 403: return "NotAllowedError";
        case 404: return "NotFoundError";
        case 405: return "MethodNotAllowedError";
        case 408: return "RequestTimeoutError";
        case 409: return "ConflictError";
        case 413: return "PayloadTooLargeError";
        case 431: return "RequestHeaderFieldsTooLargeError";
        case 501: return "NotImplementedError";
        case 502: return "BadGatewayError";
        case 503: return "ServiceUnavailableError";
        case 504: return "GatewayTimeoutError";
        case 505: return "HttpVersionNotSupportedError";
        default: return status >= 500 ? "InternalServerError" : "Error";
    }
}

std::string error_body(int status, std::string_view message, std::string_view method, std::string_view url) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
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
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace kerberus::http
