// `flow.start_keep_alive();` as a statement would destroy the jthread at
// once: it requests a stop and joins, and keep_alive blocks until the
// session ends. The result is [[nodiscard]] so the mistake does not compile
// (docs/security.md S14).
// expect: ignoring return value.*nodiscard
#pragma GCC diagnostic error "-Wunused-result"
#include <devflow/device_flow.hpp>

struct http {
    devflow::http_response send(const devflow::http_request&) { return {}; }
};
struct json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return {}; }
};

void forget(devflow::device_flow<http, json, devflow::memory_store>& flow) {
    flow.start_keep_alive();
}

int main() {}
