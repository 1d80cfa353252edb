// devflow CLI — the tool's Http policy: loads the module (module.hpp) with
// dlopen() on the first request and sends through its curl transport, so a
// run that sends nothing (a warm `devflow token`) never loads libcurl or a
// TLS library. The module is found beside the executable (the build tree) or
// in LIBDIR/devflow/ relative to it (an installed copy).
#pragma once

#include "module.hpp"

#include <devflow/types.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <dlfcn.h>

#ifndef DEVFLOW_CLI_MODULE_RELDIR
#define DEVFLOW_CLI_MODULE_RELDIR "../lib/devflow"
#endif

namespace devflow::cli {

/// Where the module may be, first found wins: beside the executable (a
/// build tree), then DEVFLOW_CLI_MODULE_RELDIR from the executable's
/// directory (an installed copy: bin/../lib/devflow). Pure.
inline std::vector<std::filesystem::path> module_candidates(const std::filesystem::path& executable,
                                                            std::string_view relative_dir) {
    const std::filesystem::path dir = executable.parent_path();
    return {dir / module_file_name, (dir / relative_dir / module_file_name).lexically_normal()};
}

/// The module, loaded once per process (never unloaded: libcurl keeps global
/// state); nullptr with `error` saying why when it cannot be.
inline const module_api* load_module(std::string& error) {
    struct loaded {
        const module_api* api = nullptr;
        std::string error;
    };
    static const loaded module = [] {
        loaded l;
        std::error_code ec;
        const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
        if (ec) {
            l.error = "cannot find devflow's own executable (" + ec.message() + ")";
            return l;
        }
        const auto candidates = module_candidates(self, DEVFLOW_CLI_MODULE_RELDIR);
        std::filesystem::path found;
        for (const auto& c : candidates)
            if (std::filesystem::is_regular_file(c, ec)) {
                found = c;
                break;
            }
        if (found.empty()) {
            l.error = "devflow's module " + std::string(module_file_name) + " is not installed (looked in " +
                      candidates[0].parent_path().string() + " and " + candidates[1].parent_path().string() +
                      "); reinstall devflow";
            return l;
        }
        void* handle = ::dlopen(found.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            l.error = "cannot load devflow's module " + found.string() + " (" + (why ? why : "?") +
                      "); reinstall devflow";
            return l;
        }
        using entry = const module_api* (*)();
        const auto get = reinterpret_cast<entry>(::dlsym(handle, module_entry_name));
        const module_api* api = get != nullptr ? get() : nullptr;
        if (api == nullptr || module_build_id() != api->build_id) {
            l.error = "devflow's module " + found.string() +
                      " is of another devflow build; reinstall devflow";
            return l;  // left loaded: unloading code that may have run is not worth the risk
        }
        l.api = api;
        return l;
    }();
    error = module.error;
    return module.api;
}

/// The Http policy of the tool (devflow::http_client): the module's curl
/// transport, loaded on the first send(). A module that cannot be loaded is
/// a transport failure naming it, so a still-valid token is served and the
/// failure line says what to do.
class cli_http {
public:
    explicit cli_http(transport_settings settings = {}) : settings_(std::move(settings)) {}
    cli_http(const cli_http&) = delete;
    cli_http& operator=(const cli_http&) = delete;
    cli_http(cli_http&& other) noexcept
        : settings_(std::move(other.settings_)),
          api_(std::exchange(other.api_, nullptr)),
          transport_(std::exchange(other.transport_, nullptr)) {}
    cli_http& operator=(cli_http&& other) noexcept {
        if (this != &other) {
            reset();
            settings_ = std::move(other.settings_);
            api_ = std::exchange(other.api_, nullptr);
            transport_ = std::exchange(other.transport_, nullptr);
        }
        return *this;
    }
    ~cli_http() { reset(); }

    /// Sends one request; never throws.
    [[nodiscard]] http_response send(const http_request& request) {
        if (transport_ == nullptr) {
            std::string error;
            const module_api* api = load_module(error);
            if (api != nullptr) transport_ = api->create_transport(settings_, error);
            if (transport_ == nullptr) {
                http_response r;
                r.transport = transport_error::other;
                r.transport_message = error;
                return r;
            }
            api_ = api;
        }
        return api_->send(transport_, request);
    }

private:
    void reset() noexcept {
        if (transport_ != nullptr) api_->destroy_transport(transport_);
        transport_ = nullptr;
    }

    transport_settings settings_;
    const module_api* api_ = nullptr;
    void* transport_ = nullptr;
};

/// The QR code of `url` from the module ("" when it is not loaded: the
/// prompt comes after a request, so it is).
inline std::string module_qr_text(std::string_view url, bool dark_ink) {
    std::string error;
    const module_api* api = load_module(error);
    return api != nullptr ? api->qr_text(url, dark_ink) : std::string{};
}

}  // namespace devflow::cli
