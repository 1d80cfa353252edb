// devflow — etcd_store: a token store shared by a fleet of machines, with a
// cross-process lock held under an etcd lease (docs/adapters/etcd.md).
// Declarations here; definitions in impl/etcd_store.hpp.
//
// It speaks etcd's v3 JSON gateway (POST /v3/kv/range, /v3/kv/txn,
// /v3/kv/deleterange, /v3/lease/grant|keepalive|revoke,
// /v3/auth/authenticate) through any devflow::http_client, so TLS, CA files
// and client certificates are the transport adapter's settings.
//
// - Records live under "<prefix>/record/<key>", locks under "<prefix>/lock/<key>".
// - lock() grants a lease (lease_ttl), creates the lock key with it in a
//   transaction that succeeds only when the key does not exist, retries with
//   backoff until it does or lock_timeout passes (granting a new lease if
//   etcd lost the first), and keeps the lease alive from a thread, through
//   its own copy of the transport when Http is copyable, while held;
//   releasing revokes the lease. A holder that dies frees the lock when its
//   lease runs out.
// - Fencing: save() and erase() are transactions that compare the record's
//   revision with the one this store last read or wrote (or that it does not
//   exist, when it was absent or never read) and, while this store holds the
//   key's lock, that the lock key still carries this store's lease. A holder
//   whose lease ran out (stopped, partitioned) cannot overwrite a newer
//   record: its write is refused with errc::storage_failed.
// - A member that does not answer (connection refused, timeout) or answers
//   "unavailable" (no leader yet) is skipped for the next one, for up to
//   retry_for per operation.
// Errors are devflow::error(errc::storage_failed) naming what failed; they
// never carry a record, a password or an auth token.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/error.hpp>
#include <devflow/secret.hpp>
#include <devflow/types.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace devflow {

/// Settings of devflow::etcd_store.
struct etcd_options {
    /// Client URLs of the cluster's members, e.g. "https://etcd-1:2379"; tried
    /// in order, moving on when one does not answer. At least one.
    std::vector<std::string> endpoints;
    /// The key prefix of this application's records and locks.
    std::string prefix = "/devflow";
    /// etcd user for authentication (/v3/auth/authenticate); empty: none.
    std::string user;
    /// That user's password.
    secret password;
    /// Lifetime of the lock's lease: how long a crashed holder keeps the
    /// lock. Kept alive every third of it while held. At least 2 s.
    std::chrono::seconds lease_ttl{10};
    /// How long lock() waits for another holder (as file_store's default).
    std::chrono::milliseconds lock_timeout{std::chrono::minutes{15}};
    /// How long one operation keeps trying members that do not answer or
    /// have no leader before it fails with errc::storage_failed.
    std::chrono::milliseconds retry_for{std::chrono::seconds{10}};
};

namespace detail::etcd {
struct connection;   // the transport, the auth token and the member in use
struct held_lease;   // one lock's lease and its keep-alive state
}  // namespace detail::etcd

/// Models devflow::token_store and devflow::lockable_store on an etcd v3
/// cluster (see the top of this header). Copies share one connection, one
/// view of the revisions read and one set of held locks; thread-safe.
template <http_client Http>
class etcd_store {
public:
    /// The settings type.
    using options = etcd_options;

    /// Holds the lock on one key (a lease kept alive by a thread) until
    /// destroyed or unlock(); movable, not copyable.
    class key_lock {
    public:
        /// A key_lock that holds nothing.
        key_lock() noexcept = default;
        key_lock(key_lock&&) noexcept = default;
        key_lock& operator=(key_lock&& other) noexcept;
        key_lock(const key_lock&) = delete;
        key_lock& operator=(const key_lock&) = delete;
        ~key_lock() { unlock(); }

        /// True while this object holds the lock (even when its lease may
        /// have run out: see lease_lost()).
        [[nodiscard]] bool owns_lock() const noexcept { return store_ != nullptr; }

        /// True when a keep-alive found the lease gone: another process may
        /// hold the lock now, and this store's writes are refused.
        [[nodiscard]] bool lease_lost() const noexcept;

        /// The lease's ID (for diagnostics and tests).
        [[nodiscard]] std::int64_t lease_id() const noexcept;

        /// Stops the keep-alive and revokes the lease (the lock key goes with
        /// it); does nothing when nothing is held. Never throws: a lease that
        /// cannot be revoked runs out by itself.
        void unlock() noexcept;

    private:
        friend class etcd_store;
        std::shared_ptr<detail::etcd::connection> store_;
        std::shared_ptr<detail::etcd::held_lease> lease_;
        std::jthread keep_alive_;
    };

    /// A store on the cluster `settings.endpoints`, speaking through `http`.
    /// Nothing is sent until the first operation.
    /// @throws devflow::error errc::invalid_config when there is no endpoint,
    ///         an endpoint is not http(s)://, the prefix is empty, lease_ttl
    ///         is under 2 s, or a timeout is not positive
    etcd_store(Http http, options settings);

    /// The record under `key`, or std::nullopt when there is none; remembers
    /// its revision for the next save().
    /// @throws devflow::error errc::storage_failed when no member answers,
    ///         authentication fails or the answer is not etcd's
    [[nodiscard]] std::optional<secret> load(std::string_view key);

    /// Writes `record` under `key` if it is still at the revision this store
    /// last read or wrote (absent, when never read) and, while this store
    /// holds the key's lock, the lock is still this store's.
    /// @throws devflow::error errc::storage_failed when the write is refused
    ///         (the message says whether the record changed or the lock's
    ///         lease ran out) or the cluster cannot be reached
    void save(std::string_view key, const secret& record);

    /// Deletes the record under `key` under the same conditions as save()
    /// (a record already gone is fine).
    /// @throws devflow::error errc::storage_failed as save()
    void erase(std::string_view key);

    /// Waits until this store holds the lock on `key` (see the top of this
    /// header). Not recursive.
    /// @throws devflow::error errc::cancelled when `stop` is requested first,
    ///         errc::storage_failed after lock_timeout or when the cluster
    ///         cannot be reached
    [[nodiscard]] key_lock lock(std::string_view key, std::stop_token stop = {});

    /// Takes the lock on `key` if it is free; std::nullopt when another holder has it.
    /// @throws devflow::error errc::storage_failed when the cluster cannot be reached
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key);

    /// The etcd key of the record under `key`: "<prefix>/record/<key>".
    [[nodiscard]] std::string record_key(std::string_view key) const;
    /// The etcd key of the lock on `key`: "<prefix>/lock/<key>".
    [[nodiscard]] std::string lock_key(std::string_view key) const;

    /// The settings this store was built with.
    [[nodiscard]] const options& settings() const noexcept;

private:
    std::optional<key_lock> acquire(std::string_view key, bool wait, std::stop_token stop);
    void write(std::string_view key, const secret* record);
    /// The record under `key` and its mod_revision (0: none), read without
    /// booking the revision.
    std::pair<std::optional<secret>, std::int64_t> read_record(std::string_view key);

    std::shared_ptr<detail::etcd::connection> connection_;
};

}  // namespace devflow

#include <devflow/adapters/impl/etcd_store.hpp>
