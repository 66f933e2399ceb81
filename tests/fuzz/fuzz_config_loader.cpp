// fuzz_config_loader: arbitrary bytes as one configuration file.
//
// The input is the file's text, as is. ConfigError is the expected answer
// to a bad file; any other exception, a crash, a hang (-timeout=) or memory
// that grows without bound (-rss_limit_mb=, -malloc_limit_mb=) is a finding.
// yaml-cpp itself is the distribution's uninstrumented build: coverage
// guides the fuzzer through kerberus's side (conversion, duplicate keys,
// aliases, node counts), and the dictionary through YAML's syntax.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "config/config.h"
#include "config/yaml_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        kerberus::config::detail::Value value = kerberus::config::detail::parse_document(text, "fuzz.yaml");
        // What the loader does next walks the tree; so does this.
        (void)kerberus::config::detail::to_yaml(value);
    } catch (const kerberus::config::ConfigError& e) {
        if (e.where().file != "fuzz.yaml") {
            std::fprintf(stderr, "\n==== FINDING: a ConfigError that names the wrong file: %s\n", e.what());
            std::abort();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\n==== FINDING: parse_document threw something other than ConfigError: %s\n",
                     e.what());
        std::abort();
    }
    return 0;
}
