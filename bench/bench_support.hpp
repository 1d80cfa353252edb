// devflow benchmarks — shared set-up: a scripted token endpoint whose access
// tokens have a chosen length, and flows signed in against it without a
// single real sleep (docs/performance.md).
#pragma once

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace devflow_bench {

/// Endpoints of the scripted server (loopback, so http is allowed).
inline const std::string issuer = "http://127.0.0.1:1/realms/bench";
inline const std::string device_endpoint = issuer + "/device";
inline const std::string token_endpoint = issuer + "/token";

/// A config for the scripted server.
inline devflow::client_config bench_config() {
    devflow::client_config c;
    c.issuer = issuer;
    c.device_authorization_endpoint = device_endpoint;
    c.token_endpoint = token_endpoint;
    c.client_id = "devflow-bench";
    c.scopes = {"openid"};
    return c;
}

/// A token of `length` characters, like an opaque token (short) or a JWT (~1 KB).
inline std::string token_of_length(std::size_t length) {
    std::string t;
    t.reserve(length);
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < length; ++i) t.push_back(alphabet[(i * 7 + 3) % 64]);
    return t;
}

/// Scripts `http` as a server that approves on the first poll and issues
/// access tokens of `length` characters living `lifetime`.
inline void script_server(devflow::testing::fake_http& http, std::size_t length,
                          std::chrono::seconds lifetime) {
    using devflow::testing::respond;
    http.handle(device_endpoint, [](const devflow::testing::recorded_request&) {
        return respond(200, R"({"device_code":"bench-device-code","user_code":"BNCH-MARK",)"
                            R"("verification_uri":"http://127.0.0.1:1/device","expires_in":600,)"
                            R"("interval":1})");
    });
    auto counter = std::make_shared<int>(0);
    http.handle(token_endpoint, [length, lifetime,
                                 counter](const devflow::testing::recorded_request&) {
        // Each answer has a distinct token (the first characters carry a counter).
        std::string token = std::to_string(++*counter) + "." + token_of_length(length);
        token.resize(length);
        return respond(200, R"({"access_token":")" + token +
                                R"(","token_type":"Bearer","expires_in":)" +
                                std::to_string(lifetime.count()) +
                                R"(,"refresh_token":"bench-refresh-)" + std::to_string(*counter) +
                                R"(","refresh_expires_in":36000})");
    });
}

/// The fake-policy flow every test of the engine uses.
template <class Clock>
using bench_flow = devflow::device_flow<devflow::testing::fake_http, devflow::nlohmann_json,
                                        devflow::memory_store, Clock,
                                        devflow::testing::recording_browser>;

/// Quiet prompt and log handlers (a benchmark prints only its figures).
template <class Flow>
void silence(Flow& flow) {
    flow.on_prompt([](const devflow::prompt_info&) {});
    flow.on_log([](devflow::log_level, std::string_view) {});
}

}  // namespace devflow_bench
