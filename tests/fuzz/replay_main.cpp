// devflow fuzzing — the plain main of the regression tests: feeds every file
// named on the command line (or found in a named directory) to one target,
// exactly as libFuzzer would. Built with the normal compiler, no libFuzzer.
//   devflow_fuzz_replay <target> <file-or-directory>...
//   devflow_fuzz_replay --list
#include "fuzz_support.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    const auto& targets = devflow_fuzz::registry();
    if (argc == 2 && std::string_view(argv[1]) == "--list") {
        for (const auto& [name, fn] : targets) std::printf("%s\n", name.c_str());
        return 0;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <target> <file-or-directory>... | --list\n", argv[0]);
        return 2;
    }
    const auto target = targets.find(std::string_view(argv[1]));
    if (target == targets.end()) {
        std::fprintf(stderr, "devflow_fuzz_replay: no target called %s\n", argv[1]);
        return 2;
    }
    std::vector<fs::path> inputs;
    for (int i = 2; i < argc; ++i) {
        const fs::path p = argv[i];
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (const auto& entry : fs::directory_iterator(p))
                if (entry.is_regular_file()) inputs.push_back(entry.path());
        } else if (fs::is_regular_file(p, ec)) {
            inputs.push_back(p);
        } else {
            std::printf("devflow_fuzz_replay: %s: nothing there, skipped\n", p.c_str());
        }
    }
    std::sort(inputs.begin(), inputs.end());
    if (inputs.empty()) {
        std::fprintf(stderr, "devflow_fuzz_replay: no inputs for %s\n", argv[1]);
        return 1;
    }
    for (const auto& path : inputs) {
        std::ifstream in(path, std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof()) {
            std::fprintf(stderr, "devflow_fuzz_replay: cannot read %s\n", path.c_str());
            return 1;
        }
        // A copy of exactly the input's size, so ASan sees any read past its end.
        std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
        target->second(data.empty() ? nullptr : data.data(), data.size());
    }
    std::printf("devflow_fuzz_replay: %s: %zu inputs replayed, all invariants held\n", argv[1],
                inputs.size());
    return 0;
}
