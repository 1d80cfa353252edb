// devflow CLI — the interface between the tool and its module,
// devflow-cli-module.so: what only a run that talks to a server needs, the
// HTTP transport (libcurl, with its TLS stack) and the QR code (libqrencode).
// The tool loads the module on its first request (transport.hpp), so a warm
// `devflow token`, which only reads the cache, loads neither
// (docs/performance.md, docs/cli.md "The modules"). Included by both sides.
#pragma once

#include <devflow/types.hpp>
#include <devflow/version.hpp>

#include <string>
#include <string_view>

namespace devflow::cli {

/// The module's file name, beside the tool or in LIBDIR/devflow/.
inline constexpr std::string_view module_file_name = "devflow-cli-module.so";

/// The one symbol the module exports: `const module_api* devflow_cli_module_v1()`.
inline constexpr const char* module_entry_name = "devflow_cli_module_v1";

/// How the transport is set up (--ca-file, --proxy).
struct transport_settings {
    std::string ca_file;  ///< empty: the system's CA certificates
    std::string proxy;    ///< empty: https_proxy from the environment, if any
};

/// What the module gives the tool. Both sides are built from the same
/// sources by the same compiler, so C++ types cross; `build_id` makes sure
/// the module found is of the same build as the tool.
struct module_api {
    /// module_build_id() as the module was built.
    const char* build_id;
    /// "libcurl 7.88.1": for `devflow --version`.
    const char* (*http_library)() noexcept;
    /// A new transport, or nullptr with `error` set (e.g. a bad proxy URL).
    void* (*create_transport)(const transport_settings& settings, std::string& error) noexcept;
    void (*destroy_transport)(void* transport) noexcept;
    /// Sends one request (devflow::http_client's contract: never throws,
    /// failures come back as transport errors).
    http_response (*send)(void* transport, const http_request& request) noexcept;
    /// The QR code of `url` as half-block text; "" when the module has no
    /// QR library or the URL does not fit.
    std::string (*qr_text)(std::string_view url, bool dark_ink) noexcept;
};

/// What identifies a build on both sides of the interface: devflow's
/// version and the sizes of the types that cross it.
inline std::string module_build_id() {
    return "devflow " DEVFLOW_VERSION_STRING " module 1 " + std::to_string(sizeof(http_request)) +
           "/" + std::to_string(sizeof(http_response)) + "/" + std::to_string(sizeof(transport_settings)) +
           "/" + std::to_string(sizeof(std::string)) + "/" + std::to_string(sizeof(secret));
}

}  // namespace devflow::cli
