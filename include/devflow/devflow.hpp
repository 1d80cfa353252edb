// devflow — the whole core in one include: every public header under
// include/devflow/ (the device_flow class template, the policies' concepts,
// the stores, the system clock and browser, discovery, errors, secrets,
// types, the version). Standard library and operating system only.
//
//     #include <devflow/devflow.hpp>
//     #include <devflow/adapters/curl_http.hpp>      // the adapters you use
//     #include <devflow/adapters/nlohmann_json.hpp>
//
// The test doubles are not in it: include <devflow/testing.hpp> for those.
// The same path, <devflow/devflow.hpp>, names the generated single header in
// single_include/ (docs/packaging.md). A test fails when a public header is
// missing from this list.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/config.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/discovery.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/memory_store.hpp>
#include <devflow/secret.hpp>
#include <devflow/system_browser.hpp>
#include <devflow/system_clock.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>
