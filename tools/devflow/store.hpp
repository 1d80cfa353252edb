// devflow CLI — the token store of a run: a file_store, or the keyring
// through the keyring module (keyring_module.hpp) when this devflow has it
// (DEVFLOW_CLI_HAVE_KEYRING), behind one type the flow takes
// (store_choice.hpp decides which).
#pragma once

#include "keyring_module.hpp"
#include "store_choice.hpp"
#include "transport.hpp"

#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/secret.hpp>

#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace devflow::cli {

/// True when this devflow was built with the keyring module.
inline constexpr bool keyring_built =
#if defined(DEVFLOW_CLI_HAVE_KEYRING)
    true;
#else
    false;
#endif

/// The keyring module, loaded once per process on first use; nullptr with
/// `error` saying why when it cannot be.
inline const keyring_api* load_keyring_module(std::string& error) {
    return open_module_once<keyring_api>(keyring_module_file_name, keyring_module_entry_name, error);
}

/// Why the keyring is not usable now, as "keyring store: <what is missing>"
/// ("" when it is usable). Loads the keyring module and asks the Secret
/// Service over D-Bus.
inline std::string keyring_problem() {
    if (!keyring_built) return "keyring store: this devflow was built without it";
    std::string error;
    const keyring_api* api = load_keyring_module(error);
    std::string why = api != nullptr ? api->problem() : error;
    if (why.empty()) return why;
    constexpr std::string_view prefix = "devflow secret_service: ";
    if (std::string_view(why).substr(0, prefix.size()) == prefix) why.erase(0, prefix.size());
    return "keyring store: " + why;
}

/// Models devflow::token_store and devflow::lockable_store in the keyring,
/// through the keyring module; its locks are file_store's lock files in the
/// cache directory (as devflow::secret_service_store's are), and the cache
/// directory is also its partition: each profile (each cache) has its own
/// keyring items, as it has its own files.
class keyring_store {
public:
    using key_lock = devflow::file_store::key_lock;

    /// `api`: the loaded keyring module; `locks`: a file_store over the lock
    /// directory; `partition`: the cache directory's path.
    keyring_store(const keyring_api* api, devflow::file_store locks, std::string partition)
        : api_(api), locks_(std::move(locks)), partition_(std::move(partition)) {}

    [[nodiscard]] std::optional<secret> load(std::string_view key) const {
        std::optional<secret> record;
        std::string error;
        check(api_->load(partition_, key, record, error), error);
        return record;
    }
    void save(std::string_view key, const secret& record) const {
        std::string error;
        check(api_->save(partition_, key, record, error), error);
    }
    void erase(std::string_view key) const {
        std::string error;
        check(api_->erase(partition_, key, error), error);
    }
    [[nodiscard]] key_lock lock(std::string_view key, std::stop_token stop = {}) const {
        return locks_.lock(key, std::move(stop));
    }
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key) const {
        return locks_.try_lock(key);
    }

private:
    static void check(int code, const std::string& error) {
        if (code != 0) throw devflow::error(static_cast<errc>(code), error);
    }

    const keyring_api* api_;
    devflow::file_store locks_;
    std::string partition_;
};

/// Models devflow::token_store, lockable_store and quarantining_store over
/// either store. Both lock with file_store's lock files, so key_lock is one type.
class cli_store {
public:
    using key_lock = devflow::file_store::key_lock;

    /// Tokens in files.
    explicit cli_store(devflow::file_store files) : store_(std::move(files)) {}
    /// Tokens in the keyring.
    explicit cli_store(keyring_store keyring) : store_(std::move(keyring)) {}

    /// Which store this is.
    [[nodiscard]] store_kind kind() const noexcept {
        return std::holds_alternative<devflow::file_store>(store_) ? store_kind::file : store_kind::keyring;
    }

    [[nodiscard]] std::optional<secret> load(std::string_view key) const {
        return std::visit([&](const auto& s) { return s.load(key); }, store_);
    }
    void save(std::string_view key, const secret& record) const {
        std::visit([&](const auto& s) { s.save(key, record); }, store_);
    }
    void erase(std::string_view key) const {
        std::visit([&](const auto& s) { s.erase(key); }, store_);
    }
    /// A file record that does not parse is set aside; a keyring item is
    /// left for the next save to replace (the keyring has no place aside).
    void set_aside(std::string_view key) const {
        if (const auto* files = std::get_if<devflow::file_store>(&store_)) (void)files->set_aside(key);
    }
    [[nodiscard]] key_lock lock(std::string_view key, std::stop_token stop = {}) const {
        return std::visit([&](const auto& s) { return s.lock(key, stop); }, store_);
    }
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key) const {
        return std::visit([&](const auto& s) { return s.try_lock(key); }, store_);
    }

private:
    std::variant<devflow::file_store, keyring_store> store_;
};

}  // namespace devflow::cli
