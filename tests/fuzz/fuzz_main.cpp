// devflow fuzzing — libFuzzer's side: one program holds every target; its
// name (devflow_fuzz_<target>, a link made by the build) or the environment
// variable DEVFLOW_FUZZ_TARGET picks the one to run.
#include "fuzz_support.hpp"

#include <cstring>
#include <string>

namespace devflow_fuzz {

/// The target this process runs, chosen once in LLVMFuzzerInitialize.
inline entry_point selected = nullptr;

}  // namespace devflow_fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    std::string name;
    if (const char* env = std::getenv("DEVFLOW_FUZZ_TARGET"); env != nullptr && *env != '\0') {
        name = env;
    } else if (*argc > 0) {
        const std::string program = (*argv)[0];
        const auto slash = program.rfind('/');
        const std::string base = slash == std::string::npos ? program : program.substr(slash + 1);
        constexpr std::string_view prefix = "devflow_fuzz_";
        if (base.compare(0, prefix.size(), prefix) == 0) name = base.substr(prefix.size());
    }
    const auto& targets = devflow_fuzz::registry();
    const auto it = targets.find(name);
    if (it == targets.end()) {
        std::fprintf(stderr,
                     "devflow_fuzz: pick a target with DEVFLOW_FUZZ_TARGET=<name> or run "
                     "devflow_fuzz_<name>; targets:");
        for (const auto& [known, fn] : targets) std::fprintf(stderr, " %s", known.c_str());
        std::fprintf(stderr, "\n");
        std::exit(2);
    }
    devflow_fuzz::selected = it->second;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return devflow_fuzz::selected(data, size);
}
