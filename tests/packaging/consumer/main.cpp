// The program every packaging consumer builds (find_package, add_subdirectory,
// FetchContent, pkg-config): a whole device flow against the fake server of
// devflow/testing.hpp in virtual time, parsed by the nlohmann_json adapter,
// with the curl adapter linked in. Prints one line; exits 0 when it worked.
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

#include <cstdio>
#include <cstring>
#include <string>

static_assert(devflow::http_client<devflow::curl_http>);

int main() {
    const devflow::curl_http curl;  // links libcurl (its User-Agent names its version)
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server{http, clock};
    devflow::device_flow flow{server.config(), http, devflow::nlohmann_json{},
                              devflow::memory_store{}, clock,
                              devflow::testing::recording_browser{}};
    flow.on_prompt([](const devflow::prompt_info&) {});

    flow.login();
    const std::string header = flow.authorization_header();
    bool ok = header.rfind("Bearer ", 0) == 0 && server.device_authorizations() == 1 &&
              curl.settings().user_agent.find("libcurl/") != std::string::npos;
#if defined(DEVFLOW_EXPECTED_VERSION)
    // The version the build system found must be the headers' version.
    ok = ok && std::strcmp(DEVFLOW_EXPECTED_VERSION, DEVFLOW_VERSION_STRING) == 0;
#endif
    std::printf("devflow %s consumer: %s\n", DEVFLOW_VERSION_STRING,
                ok ? "signed in with testing doubles" : "FAILED");
    return ok ? 0 : 1;
}
