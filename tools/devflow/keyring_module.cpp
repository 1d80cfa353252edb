// devflow-cli-keyring.so: the devflow tool's keyring store
// (keyring_module.hpp), devflow::secret_service_store behind a table of
// functions. Loaded by the tool with dlopen() only when a run uses the
// keyring or asks whether one is there. Locks are not here: the tool takes
// them itself, with file_store's lock files.
#include "keyring_module.hpp"

#include <devflow/adapters/secret_service.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace {

using devflow::cli::keyring_api;

/// The store for `partition`; its lock directory is never used here (the
/// tool locks). Made per call: it holds two strings and touches nothing.
devflow::secret_service_store store(std::string_view partition) {
    devflow::secret_service_store::options o;
    o.lock_directory = "/";
    o.partition = std::string(partition);
    return devflow::secret_service_store(std::move(o));
}

/// Runs `op`, turning an exception into (errc value, message).
template <class Op>
int guarded(std::string& error, Op&& op) noexcept {
    try {
        op();
        return 0;
    } catch (const devflow::error& e) {
        error = e.what();
        return static_cast<int>(e.value());
    } catch (const std::exception& e) {
        error = std::string("devflow secret_service: ") + e.what();
    } catch (...) {
        error = "devflow secret_service: the keyring store failed";
    }
    return static_cast<int>(devflow::errc::storage_failed);
}

std::string problem() noexcept {
    try {
        return devflow::secret_service_store::unavailable_reason();
    } catch (...) {
        return "devflow secret_service: the keyring cannot be reached";
    }
}

int load(std::string_view partition, std::string_view key, std::optional<devflow::secret>& record,
         std::string& error) noexcept {
    return guarded(error, [&] { record = store(partition).load(key); });
}

int save(std::string_view partition, std::string_view key, const devflow::secret& record,
         std::string& error) noexcept {
    return guarded(error, [&] { store(partition).save(key, record); });
}

int erase(std::string_view partition, std::string_view key, std::string& error) noexcept {
    return guarded(error, [&] { store(partition).erase(key); });
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const keyring_api* devflow_cli_keyring_v1() {
    static const std::string id = devflow::cli::module_build_id();
    static const keyring_api api{id.c_str(), &problem, &load, &save, &erase};
    return &api;
}
