// The single headers alone: this file sees only single_include/ (no
// include/devflow/ tree, no adapter) and includes them as a consumer would,
// <devflow/devflow.hpp> (the core) and <devflow/testing.hpp> (the test
// doubles). It instantiates every member of device_flow with the testing
// doubles and a tiny JSON archetype, uses discovery's Keycloak helper, and
// runs one sign-in against the fake server.
#include <devflow/devflow.hpp>
#include <devflow/testing.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace single_header_check {

/// The smallest json_codec: understands nothing, so every answer reads as
/// malformed; enough to instantiate and drive the flow.
struct opaque_json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return "{}"; }
};

using flow_type = devflow::device_flow<devflow::testing::fake_http, opaque_json,
                                       devflow::memory_store, devflow::testing::fake_clock,
                                       devflow::testing::recording_browser>;

}  // namespace single_header_check

using single_header_check::flow_type;
using single_header_check::opaque_json;

// Every member function, not only those main() calls.
template class devflow::device_flow<devflow::testing::fake_http, single_header_check::opaque_json,
                                    devflow::memory_store, devflow::testing::fake_clock,
                                    devflow::testing::recording_browser>;

int main() {
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server{http, clock};
    flow_type flow{server.config(), http, opaque_json{}, devflow::memory_store{}, clock,
                   devflow::testing::recording_browser{}};
    flow.on_prompt([](const devflow::prompt_info&) {});

    // The server's answer cannot be read by opaque_json: the flow must send
    // one device authorization request and stop with malformed_response.
    bool ok = false;
    try {
        (void)flow.login();
    } catch (const devflow::error& e) {
        ok = e.code() == devflow::errc::malformed_response;
    }
    ok = ok && server.device_authorizations() == 1 && !flow.stored_tokens();

    // Discovery is part of the core header too.
    const devflow::client_config keycloak =
        devflow::keycloak_config("https://sso.example.org", "lab", "my-cli");
    ok = ok && keycloak.token_endpoint ==
                   "https://sso.example.org/realms/lab/protocol/openid-connect/token";

    std::printf("single headers devflow %s: %s\n", DEVFLOW_VERSION_STRING,
                ok ? "device_flow instantiated and driven" : "FAILED");
    return ok ? 0 : 1;
}
