// Keycloak: sign in to a realm once, then keep the session alive in a
// long-running program (docs/keycloak.md).
//
//   devflow_example_keycloak https://sso.example.org my-realm my-cli [minutes]
//
// A Keycloak session ends after 30 minutes without a refresh (the realm's
// "SSO Session Idle"), long before its maximum of 10 hours ("SSO Session
// Max"). A program that calls its API less often than that would lose the
// session and have to ask the user again. start_keep_alive() refreshes a
// margin before the idle limit (Keycloak's refresh_expires_in), so the
// program keeps working unattended up to the maximum.
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/discovery.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

/// Minutes from now until `t`, for display.
long long minutes_until(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::minutes>(t - std::chrono::system_clock::now())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s BASE_URL REALM CLIENT_ID [MINUTES]\n"
                             "  BASE_URL with or without the legacy /auth prefix\n", argv[0]);
        return 2;
    }
    const int minutes = argc > 4 ? std::atoi(argv[4]) : 60;
    try {
        // Issuer BASE_URL/realms/REALM and its endpoints under
        // /protocol/openid-connect/, built without any request. (To read them
        // from the realm's discovery document instead, use devflow::discover.)
        devflow::client_config cfg =
            devflow::keycloak_config(argv[1], argv[2], argv[3], {"openid", "profile"});
        cfg.keep_alive_margin = std::chrono::minutes{5};  // refresh 5 min before the idle limit
        // A long-running program keeps the default session_end (raise): once
        // the session has ended, authorization_header() throws
        // reauth_required at once instead of prompting where nobody looks.

        devflow::device_flow flow{cfg, devflow::curl_http{}, devflow::nlohmann_json{}};
        flow.login();  // the cached session, a refresh, or the device flow (prompts on stderr)

        // Refreshes in the background until `keeper` is destroyed (before `flow`).
        std::jthread keeper = flow.start_keep_alive();

        // The program's own API calls go through their own transport: the
        // flow's one is used by the keep-alive thread.
        devflow::curl_http api;
        const std::string userinfo = cfg.issuer + "/protocol/openid-connect/userinfo";
        for (int minute = 0; minute < minutes; ++minute) {
            devflow::http_request call;
            call.method = devflow::http_method::get;
            call.url = userinfo;
            call.headers.push_back({"authorization", devflow::secret{flow.authorization_header()}});
            const devflow::http_response answer = api.send(call);

            // Only times are shown: the token set itself is never printed.
            const auto tokens = flow.stored_tokens();
            if (answer)
                std::printf("userinfo: HTTP %d", answer.status);
            else
                std::printf("userinfo: no answer (%s)", answer.transport_message.c_str());
            if (tokens && tokens->refresh_expires_at)
                std::printf("; the session idles out in %lld min unless refreshed",
                            minutes_until(*tokens->refresh_expires_at));
            std::printf("\n");
            std::this_thread::sleep_for(std::chrono::minutes{1});
        }
    } catch (const devflow::error& e) {
        if (e.code() == devflow::errc::reauth_required) {
            std::fprintf(stderr, "keycloak example: the session has ended; run again to sign in\n");
            return 7;
        }
        std::fprintf(stderr, "keycloak example: %s\n", e.what());  // never holds a token
        return 1;
    }
}
