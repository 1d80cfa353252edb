// devflow — what a token store holds for one session, in the words a driver
// of session_machine uses (docs/async.md): the record's state, its tokens,
// a sign-in in progress, the endpoints kept with it, and whose it is.
#pragma once

#include <devflow/secret.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace devflow {

/// How reading a record went.
enum class record_status {
    absent,   ///< the store holds no record
    ok,       ///< usable, and it belongs to the expected identity
    corrupt,  ///< not a devflow record of a known version, or a field is bad
    foreign,  ///< a good record for another issuer, client or scope set
    newer,    ///< written by a newer devflow (a higher format version): leave it alone
};

/// Endpoints kept with the tokens, so that a cached run needs no discovery.
struct cached_endpoints {
    std::string token_endpoint;
    std::string device_authorization_endpoint;
    std::string revocation_endpoint;
};

/// A sign-in waiting for the user's approval, kept with the record while the
/// prompt is up so that a new process for the same key (after Ctrl-C or a
/// crash) resumes polling the same device code and shows the same user code
/// (docs/design.md: resumable sign-in). The device code is a secret.
struct pending_authorization {
    secret device_code;
    std::string user_code;
    std::string verification_uri;
    std::string verification_uri_complete;  ///< empty when the server sent none
    /// When the code dies (wall time, anchored conservatively).
    std::chrono::system_clock::time_point expires_at{};
    /// The current interval, slow_down increases included.
    std::chrono::seconds interval{5};
};

/// Who a record belongs to: issuer (or the token endpoint when no issuer is
/// configured), client_id and scopes (sorted, space-joined).
struct record_owner {
    std::string issuer;
    std::string client_id;
    std::string scopes;

    friend bool operator==(const record_owner&, const record_owner&) = default;
};

/// What the store holds under a session's key, as a driver read it.
struct stored_session {
    record_status state = record_status::absent;
    token_set tokens;                              ///< when state is ok
    std::optional<pending_authorization> pending;  ///< a sign-in in progress (ok)
    cached_endpoints endpoints;                    ///< as stored (ok)
    record_owner owner;                            ///< ok and foreign
};

}  // namespace devflow
