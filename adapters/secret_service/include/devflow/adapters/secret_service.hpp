// devflow::secret_service — a token store in the desktop keyring, through
// the freedesktop Secret Service API (gnome-keyring, KeePassXC, KWallet) and
// libsecret (docs/adapters/secret_service.md). Declarations here; definitions
// in impl/secret_service.hpp.
//
// Each store key is one keyring item of the schema "org.devflow.Session",
// found by the attribute `key` (a digest of the store key) and shown with the
// attributes `issuer`, `client_id` and `scopes` and the label
// "devflow: <client> at <issuer>" (adapters/detail/keyring_item.hpp). The record is
// the item's secret: it crosses D-Bus in libsecret's encrypted session and is
// wiped from memory after use. Processes coordinate refreshes with
// file_store's lock files in a state directory.
//
// Fails closed: when no Secret Service is reachable (no D-Bus session bus, no
// keyring daemon, no default keyring, or a locked one) every operation throws
// devflow::error(errc::storage_failed) with a message saying what is missing.
// It never prompts (for a password, to unlock or to create a keyring) and
// never falls back to another store.
#pragma once

#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/secret.hpp>

#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace devflow {

/// Models devflow::token_store and devflow::lockable_store in the keyring of
/// the Secret Service on the D-Bus session bus. Thread-safe: it keeps no
/// mutable state of its own (libsecret's connection is per process).
class secret_service_store {
public:
    /// The lock on one key: file_store's, on "<digest>.json.lock" in the lock
    /// directory, so a keyring store and a file store over the same
    /// directory exclude each other for the same key.
    using key_lock = file_store::key_lock;

    /// The schema name of devflow's items (the attribute xdg:schema).
    static constexpr std::string_view schema_name = "org.devflow.Session";

    /// How the store is set up.
    struct options {
        /// Where the lock files live; empty: file_store::default_directory().
        std::filesystem::path lock_directory;
        /// Receives lock warnings (a long wait); empty: stderr.
        file_store::warning_sink warn;
        /// Keeps this store's items apart from those of stores with another
        /// partition in the same keyring: the same key in two partitions is
        /// two items. Empty: no partition. Stores that share a partition
        /// should share `lock_directory` too (the devflow CLI uses its cache
        /// directory as both, so each profile has its own items).
        std::string partition;
    };

    /// Locks in file_store::default_directory(), warnings to stderr. Does not
    /// contact the Secret Service (each operation does).
    /// @throws devflow::error errc::storage_failed when no home directory is known
    secret_service_store();

    /// Locks in `o.lock_directory`. Does not contact the Secret Service.
    /// @throws devflow::error errc::storage_failed when no home directory is
    /// known (and `o.lock_directory` is empty)
    explicit secret_service_store(options o);

    /// The record under `key`, or std::nullopt when the keyring holds none.
    /// @throws devflow::error errc::storage_failed when the Secret Service is
    /// not reachable, its default keyring is missing or locked, or it fails
    [[nodiscard]] std::optional<secret> load(std::string_view key) const;

    /// Stores `record` as the secret of the item for `key`: the item's own
    /// secret replaced wherever it is (every unlocked copy), or a new item in
    /// the default keyring when there is none.
    /// @throws devflow::error errc::storage_failed as load()
    void save(std::string_view key, const secret& record) const;

    /// Deletes the item for `key`; a missing one is fine. The lock file stays
    /// (it may be held; it holds nothing).
    /// @throws devflow::error errc::storage_failed as load()
    void erase(std::string_view key) const;

    /// Waits until this object holds the cross-process lock on `key`
    /// (file_store::lock(): cancelled by `stop`, errc::storage_failed after
    /// file_store::default_lock_timeout). Needs no Secret Service.
    /// @throws devflow::error errc::storage_failed or errc::cancelled
    [[nodiscard]] key_lock lock(std::string_view key, std::stop_token stop = {}) const;

    /// Takes the lock on `key` if it is free; std::nullopt when another holder has it.
    /// @throws devflow::error errc::storage_failed on an I/O failure
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key) const;

    /// Returns normally when the Secret Service is reachable and its default
    /// keyring exists and is unlocked, so that load, save and erase can work.
    /// @throws devflow::error errc::storage_failed saying what is missing
    void check_available() const;

    /// What check_available() would throw, or "" when the keyring is usable.
    [[nodiscard]] static std::string unavailable_reason();

    /// The directory of the lock files.
    [[nodiscard]] std::filesystem::path lock_directory() const;

private:
    file_store locks_;
    std::string partition_;
};

}  // namespace devflow

#include <devflow/adapters/impl/secret_service.hpp>
