// A clock whose sleep cannot be cancelled must be rejected naming the concept.
// expect: Clock must model devflow::waitable_clock
#include <devflow/device_flow.hpp>

struct http {
    devflow::http_response send(const devflow::http_request&) { return {}; }
};
struct json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return {}; }
};
struct broken_clock {
    std::chrono::system_clock::time_point now() { return {}; }
    std::chrono::steady_clock::time_point steady_now() { return {}; }
    bool sleep_for(std::chrono::steady_clock::duration) { return true; }
};

int main() {
    devflow::device_flow<http, json, devflow::memory_store, broken_clock> flow{devflow::client_config{}};
}
