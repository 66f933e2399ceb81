#include "config/config.h"

namespace kerberus::config {
namespace {

// "file:line:col: key.path: message"; the position is left out when unknown
// (an unreadable file) and the key path when there is none (a syntax error).
std::string format(const Location& where, const std::string& key_path, const std::string& message) {
    std::string text = where.file;
    if (where.line > 0) text += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
    text += ": ";
    if (!key_path.empty()) text += key_path + ": ";
    return text + message;
}

}  // namespace

ConfigError::ConfigError(Location where, std::string key_path, std::string message)
    : std::runtime_error(format(where, key_path, message)),
      where_(std::move(where)),
      key_path_(std::move(key_path)),
      message_(std::move(message)) {}

}  // namespace kerberus::config
