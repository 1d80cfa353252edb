// A browser whose open() does not say whether it opened must be rejected
// naming the concept.
// expect: Browser must model devflow::browser
#include <devflow/device_flow.hpp>

struct http {
    devflow::http_response send(const devflow::http_request&) { return {}; }
};
struct json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return {}; }
};
struct broken_browser {
    void open(std::string_view) {}
};

int main() {
    devflow::device_flow<http, json, devflow::memory_store, devflow::system_clock, broken_browser>
        flow{devflow::client_config{}};
}
