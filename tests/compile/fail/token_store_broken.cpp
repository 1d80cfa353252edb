// A store that hands back plain strings (not devflow::secret) must be rejected
// naming the concept.
// expect: Storage must model devflow::token_store
#include <devflow/device_flow.hpp>

struct http {
    devflow::http_response send(const devflow::http_request&) { return {}; }
};
struct json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return {}; }
};
struct broken_store {
    std::optional<std::string> load(std::string_view) { return std::nullopt; }
    void save(std::string_view, const devflow::secret&) {}
    void erase(std::string_view) {}
};

int main() { devflow::device_flow<http, json, broken_store> flow{devflow::client_config{}}; }
