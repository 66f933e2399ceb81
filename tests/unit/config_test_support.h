// Shared by the config_* tests: a private temporary directory per test, an
// environment given as a map, and the text of the ConfigError a load throws.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace kerberus::config::testing {

inline std::string fixture(const std::string& relative) {
    return std::string(KERBERUS_TEST_FIXTURES) + "/config/" + relative;
}

inline Environment environment(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "kerberus-config-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }

    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // Writes `text` to `name` under the test's directory; returns the path.
    std::string write(const std::string& name, const std::string& text) {
        std::filesystem::path file = dir_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file.string();
    }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // The what() of the ConfigError that load() throws, or a failure.
    static std::string load_error(const std::vector<std::string>& files, const Environment& env = environment({})) {
        try {
            load(files, env);
        } catch (const ConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "load() did not throw";
        return {};
    }

private:
    std::filesystem::path dir_;
};

}  // namespace kerberus::config::testing
