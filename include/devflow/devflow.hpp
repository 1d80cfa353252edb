// devflow — the whole core in one include: every public header under
// include/devflow/ (the device_flow class template and the sans-I/O
// session_machine under it, the policies' concepts, the stores and their
// record vocabulary, the system clock and browser, discovery and server
// metadata, the transport helpers, errors, secrets, safe display, types,
// the version). Standard library and operating system only.
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
#include <devflow/display.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/memory_store.hpp>
#include <devflow/secret.hpp>
#include <devflow/server_metadata.hpp>
#include <devflow/session_machine.hpp>
#include <devflow/stored_session.hpp>
#include <devflow/system_browser.hpp>
#include <devflow/system_clock.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>
