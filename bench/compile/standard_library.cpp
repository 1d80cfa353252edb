// Compile-time floor (bench/compile_time.sh): the standard headers the core
// includes, and nothing of devflow.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main() {
    std::map<std::string, std::vector<std::string>, std::less<>> m;
    m["a"].push_back("b");
    std::shared_mutex mutex;
    std::shared_lock lock(mutex);
    return m.size() == 1 ? 0 : 1;
}
