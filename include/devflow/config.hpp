// devflow — client_config: where the server is, who the client is, and the
// knobs of the flow (docs/configuration.md).
#pragma once

#include <devflow/secret.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace devflow {

/// What authorization_header() and access_token() do when no session is
/// left (none yet, or the refresh token is no longer accepted). login()
/// always signs in, whatever this says (docs/design.md: defaults).
enum class on_session_end {
    raise,        ///< Throw devflow::error with errc::reauth_required (the default).
    interactive,  ///< Run the device flow (prompting the user), at most once
                  ///< until login(): a denied or expired sign-in is not retried.
};

/// Everything devflow needs to know about a server and a client.
struct client_config {
    /// The issuer identifier (e.g. a Keycloak realm URL). Part of the token
    /// store key; when empty the token endpoint stands in for it.
    std::string issuer;
    /// RFC 8628 §3.1 endpoint.
    std::string device_authorization_endpoint;
    /// RFC 6749 §3.2 endpoint.
    std::string token_endpoint;
    /// RFC 7009 endpoint; when empty logout() only erases the local record.
    std::string revocation_endpoint;

    std::string client_id;
    /// Set for a confidential client: sent as client_secret_basic (RFC 6749
    /// §2.3.1), never in the body. Empty for a public client.
    secret client_secret;
    /// Requested scopes; sent space-joined (RFC 6749 §3.3).
    std::vector<std::string> scopes;
    /// Extra parameters for the device authorization request (audience,
    /// resource, ...). Must not repeat client_id or scope.
    std::vector<std::pair<std::string, std::string>> extra_parameters;

    /// Refresh this long before the access token expires (capped at half the
    /// token's lifetime, so short-lived tokens are not refreshed constantly).
    std::chrono::seconds refresh_margin{60};
    /// The keep-alive refresher refreshes this long before the refresh token
    /// (the server's idle session) expires.
    std::chrono::seconds keep_alive_margin{120};
    /// Added to every poll wait. None by default: waits are measured from the
    /// previous answer, so polls reach the server at least an interval apart
    /// with an accurate clock. After a slow_down that followed a full wait
    /// (a clock running fast), the margin widens to a quarter of the interval
    /// (RFC 8628 §3.5; docs/protocol.md#fast-clocks).
    std::chrono::milliseconds poll_margin{0};
    /// Longest wait between polls while backing off after transport failures.
    std::chrono::seconds max_backoff{60};
    /// Device codes living longer than this are refused as absurd.
    std::chrono::seconds max_expires_in{std::chrono::hours{24}};

    /// What authorization_header() does when no session is left. The default,
    /// raise, never blocks a service on a prompt nobody sees; a script signs
    /// in with login() first, or chooses interactive.
    on_session_end session_end = on_session_end::raise;

    /// Allows http:// endpoints on non-loopback hosts. Tokens then cross the
    /// network in clear text: for lab setups only.
    bool insecure_allow_http_for_non_loopback_hosts = false;
};

}  // namespace devflow
