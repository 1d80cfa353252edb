// Compile-time reference (bench/compile_time.sh): nlohmann/json alone,
// parsing and writing one object, what its adapter costs at least.
#include <nlohmann/json.hpp>

#include <string>

int main(int argc, char** argv) {
    const auto j = nlohmann::json::parse(argc > 1 ? argv[1] : "{}", nullptr, false);
    const std::string out = j.dump();
    return out.empty() ? 1 : 0;
}
