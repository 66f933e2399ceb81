// Install test: a C++ plugin using the installed SDK. GET /api/cxxgreeter/
// answers with the configured `text`.
#include <kerberus/plugin.hpp>

#include <string>

class CxxGreeter final : public kerberus::Plugin {
public:
    void init(kerberus::Host& host) override {
        text_ = std::string(host.config_string("text").value_or("greetings from C++")) + "\n";
        host.route("GET", "/", [this](kerberus::Request& r) { r.respond(200, text_); });
    }

private:
    std::string text_;
};

KERBERUS_PLUGIN(CxxGreeter, "cxxgreeter", "0.1.0", "Install test: a C++ plugin built with find_package(Kerberus)")
