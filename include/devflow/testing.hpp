// devflow — test doubles, shipped to users: code that uses devflow deserves
// deterministic tests too (docs/testing.md).
//
//     devflow::testing::fake_clock clock;                 // virtual time
//     devflow::testing::fake_http http{clock};            // scripted server
//     devflow::testing::fake_authorization_server as{http, clock};
//     devflow::device_flow flow{as.config(), http, devflow::nlohmann_json{},
//                               devflow::memory_store{}, clock,
//                               devflow::testing::recording_browser{}};
//     flow.login();                  // a whole device flow, in microseconds
#pragma once

#include <devflow/testing/fake_authorization_server.hpp>
#include <devflow/testing/fake_clock.hpp>
#include <devflow/testing/fake_http.hpp>
#include <devflow/testing/recording_browser.hpp>
