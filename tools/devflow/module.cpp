// devflow-cli-module.so: the part of the devflow tool that only a run
// talking to a server needs (module.hpp): the curl transport and the QR
// code. Loaded by the tool with dlopen() on its first request.
#include "module.hpp"

#include <devflow/adapters/curl_http.hpp>
#if defined(DEVFLOW_CLI_HAVE_QRENCODE)
#include <devflow/adapters/qrencode.hpp>
#endif

#include <exception>
#include <string>

namespace {

using devflow::cli::module_api;
using devflow::cli::transport_settings;

const char* http_library() noexcept {
    static const std::string name = [] {
        const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
        return std::string("libcurl ") + (info != nullptr && info->version != nullptr ? info->version : "?");
    }();
    return name.c_str();
}

void* create_transport(const transport_settings& settings, std::string& error) noexcept {
    try {
        devflow::curl_http::options o;
        o.ca_file = settings.ca_file;
        o.proxy = settings.proxy;
        return new devflow::curl_http(std::move(o));
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {
        error = "cannot set up the transport";
    }
    return nullptr;
}

void destroy_transport(void* transport) noexcept { delete static_cast<devflow::curl_http*>(transport); }

devflow::http_response send(void* transport, const devflow::http_request& request) noexcept {
    try {
        return static_cast<devflow::curl_http*>(transport)->send(request);
    } catch (const std::exception& e) {
        devflow::http_response r;
        r.transport = devflow::transport_error::other;
        r.transport_message = e.what();
        return r;
    } catch (...) {
        devflow::http_response r;
        r.transport = devflow::transport_error::other;
        r.transport_message = "the transport failed";
        return r;
    }
}

std::string qr_text(std::string_view url, bool dark_ink) noexcept {
#if defined(DEVFLOW_CLI_HAVE_QRENCODE)
    try {
        devflow::qr_text_options o;
        o.ink_is_dark = dark_ink;
        return devflow::qr_terminal_text(url, o).value_or(std::string{});
    } catch (...) {
        return {};
    }
#else
    (void)url;
    (void)dark_ink;
    return {};
#endif
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const module_api* devflow_cli_module_v1() {
    static const std::string id = devflow::cli::module_build_id();
    static const module_api api{id.c_str(), &http_library, &create_transport, &destroy_transport,
                                &send, &qr_text};
    return &api;
}
