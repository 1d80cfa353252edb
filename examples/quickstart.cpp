// devflow quick start: sign in once with the device flow, then call an API
// with a header that is always valid. (README.md shows this file.)
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>

#include <cstdio>
#include <exception>

int main() {
    devflow::client_config cfg;
    cfg.issuer = "https://auth.example.com/auth/realms/demo";
    cfg.device_authorization_endpoint = cfg.issuer + "/protocol/openid-connect/auth/device";
    cfg.token_endpoint = cfg.issuer + "/protocol/openid-connect/token";
    cfg.revocation_endpoint = cfg.issuer + "/protocol/openid-connect/revoke";
    cfg.client_id = "my-cli";
    cfg.scopes = {"openid", "offline_access"};

    // Tokens are kept in $XDG_STATE_HOME/devflow/ (mode 0600) and refreshed silently.
    devflow::device_flow flow{cfg, devflow::curl_http{}, devflow::nlohmann_json{}};
    try {
        flow.login();  // a script signs in up front: cache -> refresh -> device flow (prompts)
        std::string header = flow.authorization_header();  // always valid; never prompts
        devflow::http_request call;
        call.method = devflow::http_method::get;
        call.url = "https://api.example.com/v1/me";
        call.headers.push_back({"authorization", devflow::secret{std::move(header)}});
        const devflow::http_response answer = flow.http().send(call);
        std::printf("API answered HTTP %d\n", answer.status);
    } catch (const devflow::error& e) {
        std::fprintf(stderr, "sign-in failed: %s\n", e.what());  // never holds a token
        return 1;
    }
}
