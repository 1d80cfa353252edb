// The store steps of a session_machine (read_store, write_store), shared by
// every driver: device_flow, asio_flow and any other loop that answers the
// machine's steps. What is logged is a sentence; never a token.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/error.hpp>
#include <devflow/types.hpp>
#include <devflow/secret.hpp>
#include <devflow/session_machine.hpp>
#include <devflow/stored_session.hpp>

#include <optional>
#include <string>

namespace devflow::detail {

/// Answers a read_store step: loads the machine's record from `store` and
/// reads it. A store that cannot be read (errc::storage_failed: a disk
/// error, an etcd cluster that is down, a locked keyring) or a sealed record
/// that does not open (errc::unseal_failed) is an error for the caller,
/// never a reason to sign in again over a session that may be fine; a
/// record that was read but is corrupt is set aside (when the store can)
/// with a warning and then treated as absent; a foreign one is ignored
/// (docs/design.md: a token is never sent to a server other than its
/// issuer). `log(level, message)` hears about each.
template <class Json, class Storage, class Log>
stored_session read_session(const session_machine& machine, Json& json, Storage& store, const Log& log) {
    stored_session out;
    const std::optional<secret> bytes = store.load(machine.store_key());
    out = machine.read_record(json, bytes);
    switch (out.state) {
        case record_status::ok:
        case record_status::absent:
        case record_status::newer:  // the machine refuses it, naming why
            return out;
        case record_status::foreign:
            log(log_level::info, "the stored record belongs to another issuer, client or scope set; "
                                 "ignoring it");
            return out;
        case record_status::corrupt:
            break;
    }
    log(log_level::warning, "the stored token record is corrupt; setting it aside");
    if constexpr (quarantining_store<Storage>) {
        try {
            store.set_aside(machine.store_key());
        } catch (const error& e) {
            log(log_level::warning, std::string("cannot set the corrupt record aside: ") + e.what());
        }
    }
    return out;
}

/// Answers a write_store step: true when `store` kept the record. A store
/// that fails is logged, not thrown: the tokens stay usable from memory and
/// the user learns why they will not survive a restart.
template <class Json, class Storage, class Log>
bool write_session(const session_machine& machine, Json& json, Storage& store, const step& write,
                   const Log& log) {
    try {
        store.save(machine.store_key(), machine.record_bytes(json, write));
        return true;
    } catch (const error& e) {
        log(log_level::warning, std::string("cannot save tokens: ") + e.what());
        return false;
    }
}

}  // namespace devflow::detail
