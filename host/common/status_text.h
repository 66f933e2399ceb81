// Plugin status codes as people read them: the name plugin.h gives a code
// and what it means, never the bare number.
#pragma once

#include <string>

#include "kerberus/plugin.h"

namespace kerberus {

// "KERBERUS_ERR_WRONG_TYPE (a value of the wrong type)"; unknown codes
// as "status 42".
inline std::string status_text(kerberus_status status) {
    switch (status) {
        case KERBERUS_OK: return "KERBERUS_OK";
        case KERBERUS_ASYNC: return "KERBERUS_ASYNC";
        case KERBERUS_ERR_INVALID: return "KERBERUS_ERR_INVALID (an invalid argument)";
        case KERBERUS_ERR_NOT_FOUND: return "KERBERUS_ERR_NOT_FOUND (something that does not exist)";
        case KERBERUS_ERR_WRONG_TYPE: return "KERBERUS_ERR_WRONG_TYPE (a value of the wrong type)";
        case KERBERUS_ERR_CONFLICT: return "KERBERUS_ERR_CONFLICT (registered twice)";
        case KERBERUS_ERR_STATE: return "KERBERUS_ERR_STATE (not allowed now)";
        case KERBERUS_ERR_EXPIRED: return "KERBERUS_ERR_EXPIRED (already answered by the host)";
        case KERBERUS_ERR_TOO_LARGE: return "KERBERUS_ERR_TOO_LARGE (over a size limit)";
        case KERBERUS_ERR_INTERNAL: return "KERBERUS_ERR_INTERNAL (a failure inside the plugin)";
        case KERBERUS_ERR_UNREACHABLE: return "KERBERUS_ERR_UNREACHABLE (the upstream could not be reached)";
        case KERBERUS_ERR_TIMEOUT: return "KERBERUS_ERR_TIMEOUT (a timeout passed)";
        case KERBERUS_ERR_CANCELLED: return "KERBERUS_ERR_CANCELLED (cancelled)";
        case KERBERUS_BUSY: return "KERBERUS_BUSY (the client is slow)";
        case KERBERUS_ERR_CLOSED: return "KERBERUS_ERR_CLOSED (the client is gone)";
    }
    return "status " + std::to_string(status);
}

}  // namespace kerberus
