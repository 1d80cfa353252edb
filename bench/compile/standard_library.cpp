// Compile-time floor (bench/compile_time.sh): the standard headers the core
// includes, and nothing of devflow.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

int main() {
    std::map<std::string, std::vector<std::string>, std::less<>> m;
    m["a"].push_back("b");
    std::shared_mutex mutex;
    std::shared_lock lock(mutex);
    return m.size() == 1 ? 0 : 1;
}
