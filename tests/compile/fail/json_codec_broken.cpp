// A JSON policy without write() must be rejected naming the concept.
// expect: Json must model devflow::json_codec
#include <devflow/device_flow.hpp>

struct http {
    devflow::http_response send(const devflow::http_request&) { return {}; }
};
struct broken_json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
};

int main() { devflow::device_flow<http, broken_json> flow{devflow::client_config{}}; }
