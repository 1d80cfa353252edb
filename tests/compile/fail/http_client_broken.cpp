// A transport whose send() returns the wrong type must be rejected with one
// message naming the concept.
// expect: Http must model devflow::http_client
#include <devflow/device_flow.hpp>

struct broken_http {
    int send(const devflow::http_request&) { return 200; }
};
struct json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return {}; }
};

int main() { devflow::device_flow<broken_http, json> flow{devflow::client_config{}}; }
