// Compile-time subject (bench/compile_time.sh): device_flow instantiated with
// the test doubles and the nlohmann adapter, every public member used.
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

int main() {
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server{http, clock};
    devflow::device_flow flow{server.config(), http, devflow::nlohmann_json{},
                              devflow::memory_store{}, clock,
                              devflow::testing::recording_browser{}};
    flow.on_prompt([](const devflow::prompt_info&) {});
    const auto tokens = flow.login();
    const std::string header = flow.authorization_header();
    const devflow::secret token = flow.access_token();
    const auto stored = flow.stored_tokens();
    { auto keep_alive = flow.start_keep_alive(); }
    const bool revoked = flow.logout();
    return header.size() > 7 && !token.empty() && stored && revoked && !tokens.access_token.empty()
               ? 0
               : 1;
}
