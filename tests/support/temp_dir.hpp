// A fresh private directory under the system temp directory, removed with
// everything in it when the object goes away.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <stdlib.h>  // mkdtemp
#include <string>
#include <system_error>

namespace devflow_test {

class temp_dir {
public:
    /// Makes `<tmp>/<prefix>-XXXXXX` (mode 0700).
    explicit temp_dir(const std::string& prefix = "devflow-test") {
        std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("temp_dir: mkdtemp failed for " + pattern);
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        // scripts/canary_check.sh keeps every test's files, to scan them for leaks.
        if (const char* keep = std::getenv("DEVFLOW_TEST_KEEP_TEMP"); keep != nullptr && *keep != '\0')
            return;
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    /// The directory.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace devflow_test
