// Testing your own code with devflow/testing.hpp: a whole device flow and an
// hour of token refreshes in virtual time, no network, no sleeping.
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

#include <cstdio>

// The code under test: anything that takes a flow and makes calls.
template <class Flow>
int count_calls_for_an_hour(Flow& flow, devflow::testing::fake_clock& clock) {
    int calls = 0;
    for (int minute = 0; minute < 60; ++minute, ++calls) {
        (void)flow.authorization_header();   // always valid
        clock.advance(std::chrono::minutes{1});
    }
    return calls;
}

int main() {
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server{http, clock};  // Keycloak-like
    devflow::device_flow flow{server.config(), http, devflow::nlohmann_json{},
                              devflow::memory_store{}, clock,
                              devflow::testing::recording_browser{}};
    flow.on_prompt([](const devflow::prompt_info&) {});  // nobody to show it to
    flow.login();  // the device flow, approved by the fake server's user

    const int calls = count_calls_for_an_hour(flow, clock);
    // 5-minute tokens refreshed a minute early: one refresh every 4 minutes.
    std::printf("%d calls, %d device flow, %d refreshes, %zu requests in all\n", calls,
                server.device_authorizations(), server.successful_refreshes(),
                http.requests().size());
    return server.device_authorizations() == 1 && server.successful_refreshes() >= 14 ? 0 : 1;
}
