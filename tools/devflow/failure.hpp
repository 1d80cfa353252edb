// devflow CLI — exit codes, and the one line each failure prints with its
// fix (pure; tested in tests/cli/failure_test.cpp; listed in docs/cli.md).
#pragma once

#include <devflow/display.hpp>
#include <devflow/error.hpp>

#include <string>
#include <string_view>

namespace devflow::cli {

/// The documented exit codes of the devflow tool.
enum class exit_code : int {
    ok = 0,
    internal = 1,   ///< an unexpected failure (a bug)
    usage = 2,      ///< bad command line or configuration (issuer, client, scopes)
    denied = 3,     ///< the user (or the server's policy) denied the sign-in
    expired = 4,    ///< the code expired before the sign-in was approved
    network = 5,    ///< no HTTP answer (DNS, connection, TLS, timeout)
    server = 6,     ///< the server answered an error or something unusable
    reauth = 7,     ///< not signed in, or the session has ended
    storage = 8,    ///< the token cache cannot be read or written
    cancelled = 130,  ///< interrupted (Ctrl-C, SIGTERM)
};

/// A failure ready to report: the exit code and one line (with "devflow: ").
struct failure {
    exit_code code = exit_code::internal;
    std::string line;
    std::string error_name;  ///< a stable name for --json ("access_denied", "usage", ...)
};

/// What a message may mention about the situation.
struct failure_context {
    std::string client_id;
};

/// One line of text: control characters escaped (server text may hold
/// terminal escapes), at most `max` bytes.
inline std::string one_line(std::string_view text, std::size_t max = 400) {
    return devflow::safe_text(text, max);
}


/// The server's own words, "error: description", or "" when it sent none.
inline std::string server_words(const devflow::error& e) {
    if (e.server_error().empty()) return {};
    std::string s = e.server_error();
    if (!e.error_description().empty()) s += ": " + e.error_description();
    return s;
}

/// The exit code for a devflow::errc.
inline exit_code exit_code_for(devflow::errc c) {
    using devflow::errc;
    switch (c) {
        case errc::access_denied: return exit_code::denied;
        case errc::expired_token: return exit_code::expired;
        case errc::transport_failed: return exit_code::network;
        case errc::server_error:
        case errc::malformed_response:
        case errc::invalid_request: return exit_code::server;
        case errc::invalid_grant:
        case errc::reauth_required: return exit_code::reauth;
        case errc::storage_failed:
        case errc::unseal_failed: return exit_code::storage;
        case errc::cancelled: return exit_code::cancelled;
        case errc::invalid_client:
        case errc::invalid_scope:
        case errc::unauthorized_client:
        case errc::unsupported_grant_type:
        case errc::insecure_endpoint:
        case errc::issuer_mismatch:
        case errc::invalid_config: return exit_code::usage;
    }
    return exit_code::internal;
}

/// The failure to report for a devflow::error: its exit code and one line
/// that says what happened and what to do.
inline failure describe(const devflow::error& e, const failure_context& ctx = {}) {
    using devflow::errc;
    const errc c = e.value();
    const std::string what = e.what();
    const std::string said = server_words(e);
    const std::string client = ctx.client_id.empty() ? std::string("the client")
                                                     : "client \"" + ctx.client_id + "\"";
    std::string text;
    switch (c) {
        case errc::access_denied:
            text = "the sign-in was denied in the browser; run `devflow login` to try again";
            break;
        case errc::expired_token:
            text = "the code expired before the sign-in was approved; run `devflow login` to "
                   "get a new code";
            break;
        case errc::transport_failed:
            text = "cannot reach the server (" + what +
                   "); check the issuer URL (--issuer) and your network";
            break;
        case errc::server_error:
            text = "the server reported an error (" + (said.empty() ? what : said) +
                   "); try again later";
            break;
        case errc::malformed_response:
            text = "the server sent an answer devflow cannot use (" + what +
                   "); check that --issuer names an OAuth 2.0 server";
            break;
        case errc::invalid_request:
            text = "the server refused the request (" + (said.empty() ? what : said) +
                   "); check the client's settings at the server";
            break;
        case errc::invalid_client:
            text = "the server does not accept " + client +
                   " (invalid_client); check --client-id, and --client-secret-env for a "
                   "confidential client";
            break;
        case errc::unauthorized_client:
            text = client + " may not use the device flow (unauthorized_client); enable the OAuth "
                            "2.0 Device Authorization Grant for it at the server";
            break;
        case errc::unsupported_grant_type:
            text = "the server does not support the device flow (unsupported_grant_type); enable "
                   "the OAuth 2.0 Device Authorization Grant at the server";
            break;
        case errc::invalid_scope:
            text = "the server refused the requested scopes (" + (said.empty() ? what : said) +
                   "); check --scope";
            break;
        case errc::invalid_grant:
            text = "the server no longer accepts this sign-in (invalid_grant); run `devflow "
                   "login` to sign in again";
            break;
        case errc::insecure_endpoint:
            text = what + "; use the server's https address";
            break;
        case errc::issuer_mismatch:
            text = what + "; pass --issuer exactly as the server names itself";
            break;
        case errc::storage_failed:
            text = "cannot use the token cache (" + what + "); check --cache and its permissions";
            break;
        case errc::reauth_required:
            text = "the session has ended; run `devflow login` to sign in again";
            break;
        case errc::cancelled:
            text = "cancelled";
            break;
        case errc::invalid_config:
            text = what;
            break;
        case errc::unseal_failed:
            text = "cannot open the sealed token record (" + what +
                   "); give the key it was sealed with, or run `devflow logout` to remove it";
            break;
    }
    return {exit_code_for(c), "devflow: " + one_line(text), devflow::to_string(c)};
}

/// A usage failure: the problem and where to read more.
inline failure usage_failure(std::string_view problem) {
    return {exit_code::usage, "devflow: " + one_line(problem) + "; see `devflow --help`", "usage"};
}

/// A remembered-settings file devflow may not trust (docs/security.md S1):
/// nothing is sent anywhere, and the user learns which file and why.
inline failure untrusted_settings_failure(std::string_view file, std::string_view reason,
                                          std::string_view kind = "settings file") {
    return {exit_code::storage,
            "devflow: the " + std::string(kind) + " " + one_line(file) + " " + one_line(reason) +
                "; devflow does not use it (remove it, or make it yours with mode 0600)",
            "untrusted_settings"};
}

/// `token --id-token` when the session holds no id_token: the server gives
/// one only to an OpenID Connect sign-in (scope openid).
inline failure no_id_token() {
    return {exit_code::reauth,
            "devflow: the session has no id_token (the server sends one only when the openid "
            "scope was asked for); sign in again with `devflow login --force --scope openid`",
            "no_id_token"};
}

/// keep-alive when another one already holds the session's keep-alive lock.
inline failure keep_alive_running(std::string_view who) {
    return {exit_code::usage,
            "devflow: a keep-alive already runs for this session" +
                (who.empty() ? std::string{} : " (" + one_line(who, 100) + ")") +
                "; `devflow status` shows it",
            "keep_alive_running"};
}

/// keep-alive when the session ends under it (its maximum, or a logout).
inline failure keep_alive_session_ended() {
    return {exit_code::reauth,
            "devflow: the session has ended (the server's maximum was reached, or it was signed "
            "out), so keep-alive stops; run `devflow login` to sign in again",
            std::string{devflow::to_string(devflow::errc::reauth_required)}};
}

/// "Not signed in" for token, status and logout.
inline failure not_signed_in(std::string_view issuer, std::string_view client_id) {
    std::string text = "not signed in";
    if (!issuer.empty())
        text += " to " + std::string(issuer) + " as client \"" + std::string(client_id) + "\"";
    text += "; run `devflow login` first";
    return {exit_code::reauth, "devflow: " + one_line(text), "not_signed_in"};
}

}  // namespace devflow::cli
