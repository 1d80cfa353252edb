// devflow — sealed_store: a token store decorator that seals every record
// with AES-256-GCM (OpenSSL) under a key the application supplies
// (docs/adapters/openssl.md). Declarations here; definitions in
// impl/sealed_store.hpp.
//
// What it protects against: anyone who can read or change the records of
// the inner store (a shared etcd cluster, a backup of the state directory,
// a keyring export) but does not have the key. They learn nothing of the
// tokens (beyond the record's length), and any change they make — a byte
// flipped, a record cut short, a record copied from one store key to
// another, a record replaced by an unsealed one — is detected when it is
// loaded, as errc::unseal_failed, never as a missing record that would
// silently start a new sign-in.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/error.hpp>
#include <devflow/secret.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string_view>
#include <utility>

namespace devflow {

/// Models devflow::token_store over any token store `Store`, sealing each
/// record with AES-256-GCM: a fresh random 96-bit nonce per save, the store
/// key and the format version bound as associated data. The inner store sees
/// only "devflow-sealed-v1.<base64>" text. lock() and set_aside() are
/// forwarded when `Store` has them, so sealed_store<file_store> is lockable
/// and quarantining, and sealed_store<etcd_store<...>> lockable.
///
/// Thread safety: as the inner store's (sealing itself keeps no shared
/// mutable state; each call has its own cipher context).
template <token_store Store>
class sealed_store {
public:
    /// AES-256 key length in bytes.
    static constexpr std::size_t key_size = 32;

    /// Seals the records of `inner` under `key`, exactly key_size bytes
    /// (e.g. from read_key_file(), or a secret manager). The key is kept in a
    /// devflow::secret, wiped when this store is destroyed.
    /// @throws devflow::error errc::invalid_config when `key` is not 32 bytes
    sealed_store(Store inner, secret key);

    /// Reads a key file the way file_store reads a record (read_private_file:
    /// never through a symbolic link; a regular file owned by this user with
    /// no group or other permission bits), holding 32 raw bytes or 64 hex
    /// digits and an optional final newline (`openssl rand -hex 32 > key`).
    /// @throws devflow::error errc::invalid_config when the file is absent,
    ///         refused (the message says why) or does not hold a key;
    ///         errc::storage_failed when it cannot be read
    [[nodiscard]] static secret read_key_file(const std::filesystem::path& file);

    /// The record under `key`, opened; std::nullopt when the inner store has none.
    /// @throws devflow::error errc::unseal_failed when the record does not
    ///         open: a wrong key, a changed or missing byte, a record saved
    ///         under another key, a record that is not sealed, or one of a
    ///         newer format; the inner store's errors as they are
    [[nodiscard]] std::optional<secret> load(std::string_view key);

    /// Seals `record` under a fresh random nonce and saves it under `key`.
    /// @throws devflow::error errc::storage_failed when no random nonce or
    ///         cipher is available; the inner store's errors as they are
    void save(std::string_view key, const secret& record);

    /// Erases the record under `key` in the inner store.
    void erase(std::string_view key) { inner_.erase(key); }

    /// The inner store's lock on `key` (when `Store` is lockable).
    template <class S = Store>
        requires lockable_store<S>
    [[nodiscard]] auto lock(std::string_view key) {
        return inner_.lock(key);
    }

    /// The inner store's lock on `key`, its wait cut short by `stop` (when
    /// `Store` takes a std::stop_token).
    template <class S = Store>
        requires requires(S& s, std::string_view k, std::stop_token t) { s.lock(k, t); }
    [[nodiscard]] auto lock(std::string_view key, std::stop_token stop) {
        return inner_.lock(key, std::move(stop));
    }

    /// Sets the record under `key` aside in the inner store (when `Store` is
    /// quarantining). device_flow calls it only for a record that opened but
    /// is not a valid session record; one that does not open is never set
    /// aside.
    template <class S = Store>
        requires quarantining_store<S>
    auto set_aside(std::string_view key) {
        return inner_.set_aside(key);
    }

    /// The inner store.
    [[nodiscard]] Store& inner() noexcept { return inner_; }
    /// The inner store.
    [[nodiscard]] const Store& inner() const noexcept { return inner_; }

private:
    Store inner_;
    secret key_;
};

}  // namespace devflow

#include <devflow/adapters/impl/sealed_store.hpp>
