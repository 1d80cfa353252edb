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

/// Where a module called `file_name` may be, first found wins: beside the
/// executable (a build tree), then DEVFLOW_CLI_MODULE_RELDIR from the
/// executable's directory (an installed copy: bin/../lib/devflow). Pure.
inline std::vector<std::filesystem::path> module_candidates(const std::filesystem::path& executable,
                                                            std::string_view relative_dir,
                                                            std::string_view file_name = module_file_name) {
    const std::filesystem::path dir = executable.parent_path();
    return {dir / file_name, (dir / relative_dir / file_name).lexically_normal()};
}

/// Finds the module `file_name` (module_candidates), loads it and calls its
/// entry point `entry_name`: the table it returns, or nullptr with `error`
/// saying why (also when the table's build id, its first member, is not
/// module_build_id()). Never unloads it.
template <class Api>
const Api* open_module(std::string_view file_name, const char* entry_name, std::string& error) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        error = "cannot find devflow's own executable (" + ec.message() + ")";
        return nullptr;
    }
    const auto candidates = module_candidates(self, DEVFLOW_CLI_MODULE_RELDIR, file_name);
    std::filesystem::path found;
    for (const auto& c : candidates)
        if (std::filesystem::is_regular_file(c, ec)) {
            found = c;
            break;
        }
    if (found.empty()) {
        // The advice before the paths, which may be long enough to be cut.
        error = "devflow's module " + std::string(file_name) +
                " is not installed; reinstall devflow (looked in " +
                candidates[0].parent_path().string() + " and " + candidates[1].parent_path().string() + ")";
        return nullptr;
    }
    void* handle = ::dlopen(found.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        error = "cannot load devflow's module " + found.string() + " (" + (why ? why : "?") +
                "); reinstall devflow";
        return nullptr;
    }
    using entry = const Api* (*)();
    const auto get = reinterpret_cast<entry>(::dlsym(handle, entry_name));
    const Api* api = get != nullptr ? get() : nullptr;
    if (api == nullptr || module_build_id() != api->build_id) {
        error = "devflow's module " + found.string() + " is of another devflow build; reinstall devflow";
        return nullptr;  // left loaded: unloading code that may have run is not worth the risk
    }
    return api;
}

/// open_module() once per process and Api type (the first call's file and
/// entry names count; a module is never unloaded: libcurl and GLib keep
/// global state); nullptr with `error` saying why when it cannot be loaded.
template <class Api>
const Api* open_module_once(std::string_view file_name, const char* entry_name, std::string& error) {
    struct loaded {
        const Api* api = nullptr;
        std::string error;
    };
    static const loaded module = [&] {
        loaded l;
        l.api = open_module<Api>(file_name, entry_name, l.error);
        return l;
    }();
    error = module.error;
    return module.api;
}

/// The module, loaded once per process; nullptr with `error` saying why
/// when it cannot be.
inline const module_api* load_module(std::string& error) {
    return open_module_once<module_api>(module_file_name, module_entry_name, error);
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
