// devflow CLI — the interface between the tool and its keyring module,
// devflow-cli-keyring.so: the keyring store (devflow::secret_service_store,
// libsecret with GLib and libgcrypt). The tool loads it (keyring.hpp) only
// when a run uses the keyring or `--store auto` asks whether one is there,
// so a run on files loads none of it (docs/cli.md "The modules"). Included
// by both sides.
#pragma once

#include "module.hpp"

#include <devflow/secret.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace devflow::cli {

/// The keyring module's file name, beside the tool or in LIBDIR/devflow/.
inline constexpr std::string_view keyring_module_file_name = "devflow-cli-keyring.so";

/// The one symbol it exports: `const keyring_api* devflow_cli_keyring_v1()`.
inline constexpr const char* keyring_module_entry_name = "devflow_cli_keyring_v1";

/// What the keyring module gives the tool. Both sides are built from the
/// same sources by the same compiler, so C++ types cross; `build_id` (as in
/// module_api) makes sure the module is of the same build. A failing call
/// returns the devflow::errc value of the error and sets `error` to its
/// message (never a record's contents); 0 means done.
struct keyring_api {
    /// module_build_id() as the module was built.
    const char* build_id;
    /// Why the keyring is not usable ("" when it is): secret_service_store::unavailable_reason().
    std::string (*problem)() noexcept;
    /// The record under `key` in `partition` (secret_service_store's
    /// options::partition; the tool passes its cache directory); std::nullopt: none.
    int (*load)(std::string_view partition, std::string_view key, std::optional<secret>& record,
                std::string& error) noexcept;
    int (*save)(std::string_view partition, std::string_view key, const secret& record,
                std::string& error) noexcept;
    int (*erase)(std::string_view partition, std::string_view key, std::string& error) noexcept;
};

}  // namespace devflow::cli
