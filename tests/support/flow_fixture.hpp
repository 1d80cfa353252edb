// A device_flow wired to the in-memory test doubles, with every prompt and
// log line captured and checked for leaked secrets.
#pragma once

#include "canary.hpp"
#include "catch.hpp"

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace devflow_test {

using namespace std::chrono_literals;

/// A flow on the test doubles with the store `Store`.
template <class Store>
using flow_with = devflow::device_flow<devflow::testing::fake_http, devflow::nlohmann_json, Store,
                                       devflow::testing::fake_clock,
                                       devflow::testing::recording_browser>;

/// The flow type every engine test uses.
using test_flow = flow_with<devflow::memory_store>;

/// A fake authorization server, a shared store, and flows built against them.
struct fixture {
    explicit fixture(devflow::testing::server_options options = {})
        : server(http, clock, std::move(options)) {}

    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server;
    devflow::memory_store store;
    devflow::testing::recording_browser browser;

    /// A flow for `config` (default: the server's), capturing output.
    std::unique_ptr<test_flow> make_flow(devflow::client_config config) {
        return make_flow_with(store, std::move(config));
    }
    std::unique_ptr<test_flow> make_flow() { return make_flow(server.config()); }

    /// A flow on another store (a file_store, a wrapper), capturing output.
    template <class Store>
    std::unique_ptr<flow_with<Store>> make_flow_with(Store other, devflow::client_config config) {
        auto flow = std::make_unique<flow_with<Store>>(std::move(config), http,
                                                       devflow::nlohmann_json{}, std::move(other),
                                                       clock, browser);
        flow->on_prompt([this](const devflow::prompt_info& p) {
            std::lock_guard lock(mutex);
            echo_captured("prompt", p.text);
            prompts.push_back(p);
        });
        flow->on_log([this](devflow::log_level level, std::string_view line) {
            std::lock_guard lock(mutex);
            echo_captured("log", line);
            logs.emplace_back(line);
            if (level == devflow::log_level::warning) warnings.emplace_back(line);
        });
        return flow;
    }

    /// Token-endpoint requests that polled with a device code.
    std::vector<devflow::testing::recorded_request> polls() const {
        std::vector<devflow::testing::recorded_request> out;
        for (auto& r : http.requests_to(server.token_endpoint()))
            if (r.field("grant_type") == "urn:ietf:params:oauth:grant-type:device_code")
                out.push_back(r);
        return out;
    }
    /// Token-endpoint requests that used a refresh token.
    std::vector<devflow::testing::recorded_request> refreshes() const {
        std::vector<devflow::testing::recorded_request> out;
        for (auto& r : http.requests_to(server.token_endpoint()))
            if (r.field("grant_type") == "refresh_token") out.push_back(r);
        return out;
    }

    ~fixture() {
        // Nothing the user or a log could see may carry a secret.
        for (const auto& p : prompts) CHECK(leak_free(p.text));
        for (const auto& l : logs) CHECK(leak_free(l));
    }

    std::mutex mutex;
    std::vector<devflow::prompt_info> prompts;
    std::vector<std::string> logs;
    std::vector<std::string> warnings;
};

}  // namespace devflow_test
