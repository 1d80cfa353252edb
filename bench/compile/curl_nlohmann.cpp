// Compile-time subject (bench/compile_time.sh): device_flow as a program
// ships it, with curl and nlohmann and the default store, clock and browser,
// every public member used. Never run.
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>

int main(int argc, char**) {
    devflow::client_config config;
    config.issuer = "https://auth.example.com/realms/app";
    config.device_authorization_endpoint = config.issuer + "/protocol/openid-connect/auth/device";
    config.token_endpoint = config.issuer + "/protocol/openid-connect/token";
    config.client_id = "app";
    devflow::device_flow flow{config, devflow::curl_http{}, devflow::nlohmann_json{}};
    if (argc < 5) return 0;  // compiled, not run
    const auto tokens = flow.login();
    const std::string header = flow.authorization_header();
    const devflow::secret token = flow.access_token();
    const auto stored = flow.stored_tokens();
    { auto keep_alive = flow.start_keep_alive(); }
    return flow.logout() && header.size() > 7 && !token.empty() && stored &&
                   !tokens.access_token.empty()
               ? 0
               : 1;
}
