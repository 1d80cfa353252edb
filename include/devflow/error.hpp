// devflow — the one exception type and its error codes (docs/errors.md).
#pragma once

#include <devflow/detail/display_text.hpp>

#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace devflow {

/// Why a devflow operation failed. Names follow the RFC spelling where the
/// RFC has one; the rest are the library's own.
enum class errc {
    // Server errors, RFC 6749 §5.2 and RFC 8628 §3.5.
    access_denied = 1,       ///< The user (or policy) refused the authorization.
    expired_token,           ///< The device code expired, at the server or locally.
    invalid_grant,           ///< The grant (device code or refresh token) is not valid.
    invalid_client,          ///< Client authentication failed.
    invalid_request,         ///< The server found the request malformed.
    invalid_scope,           ///< A requested scope is unknown or not allowed.
    unauthorized_client,     ///< The client may not use this grant type.
    unsupported_grant_type,  ///< The server does not support the device grant.
    server_error,            ///< Any other error code from the server, carried verbatim.
    // The library's own.
    transport_failed,    ///< The request never got an HTTP answer (DNS, connect, TLS, timeout).
    malformed_response,  ///< The server answered something devflow cannot use.
    insecure_endpoint,   ///< An endpoint is not https (and not loopback).
    issuer_mismatch,     ///< A discovery document names another issuer.
    storage_failed,      ///< The token store could not be read or written.
    reauth_required,     ///< The session is over and interactive login is disabled.
    cancelled,           ///< A std::stop_token asked the operation to stop.
    invalid_config,      ///< The client_config (or an argument) is unusable.
    unseal_failed,       ///< A sealed record did not open: wrong key, changed or cut bytes, or moved from another key.
};

/// The stable name of an errc: its enumerator's spelling ("access_denied",
/// "storage_failed", ...). These names are a contract: the CLI's `--json`
/// output and logs carry them, and they never change for an existing code.
/// Returns "unknown" for a value that is not an errc.
[[nodiscard]] constexpr const char* to_string(errc code) noexcept {
    switch (code) {
        case errc::access_denied: return "access_denied";
        case errc::expired_token: return "expired_token";
        case errc::invalid_grant: return "invalid_grant";
        case errc::invalid_client: return "invalid_client";
        case errc::invalid_request: return "invalid_request";
        case errc::invalid_scope: return "invalid_scope";
        case errc::unauthorized_client: return "unauthorized_client";
        case errc::unsupported_grant_type: return "unsupported_grant_type";
        case errc::server_error: return "server_error";
        case errc::transport_failed: return "transport_failed";
        case errc::malformed_response: return "malformed_response";
        case errc::insecure_endpoint: return "insecure_endpoint";
        case errc::issuer_mismatch: return "issuer_mismatch";
        case errc::storage_failed: return "storage_failed";
        case errc::reauth_required: return "reauth_required";
        case errc::cancelled: return "cancelled";
        case errc::invalid_config: return "invalid_config";
        case errc::unseal_failed: return "unseal_failed";
    }
    return "unknown";
}

/// The std::error_category of devflow::errc.
const std::error_category& error_category() noexcept;

/// Makes a std::error_code from a devflow::errc.
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// What the server said, verbatim (RFC 6749 §5.2).
struct server_error_info {
    std::string error;              ///< The `error` code, e.g. "access_denied".
    std::string error_description;  ///< `error_description`, if sent.
    std::string error_uri;          ///< `error_uri`, if sent.
    int http_status = 0;            ///< The HTTP status, 0 if there was no answer.
};

/// The one exception devflow throws. Compare code() with a devflow::errc.
/// what() never contains a token, device code or client secret, nor a raw
/// control or bidirectional formatting character; the server's own fields
/// are kept verbatim in server_info() for programs that want them.
class error : public std::system_error {
public:
    /// `message` is made safe to show (detail::display_text): a server's words
    /// inside it cannot reach a terminal as control or bidi characters.
    error(errc code, const std::string& message, server_error_info server = {})
        : std::system_error(make_error_code(code)),
          message_(std::make_shared<const std::string>(detail::display_text(message))),
          server_(std::move(server)) {}

    /// The message: one sentence saying what happened (std::system_error's
    /// ": <code description>" suffix is not added; code() carries the code).
    [[nodiscard]] const char* what() const noexcept override { return message_->c_str(); }

    /// The devflow::errc this error carries.
    [[nodiscard]] errc value() const noexcept { return static_cast<errc>(code().value()); }

    /// The server's `error` code, verbatim; empty when the server sent none.
    [[nodiscard]] const std::string& server_error() const noexcept { return server_.error; }
    /// The server's `error_description`, verbatim.
    [[nodiscard]] const std::string& error_description() const noexcept {
        return server_.error_description;
    }
    /// The server's `error_uri`, verbatim.
    [[nodiscard]] const std::string& error_uri() const noexcept { return server_.error_uri; }
    /// The HTTP status of the answer, 0 if there was none.
    [[nodiscard]] int http_status() const noexcept { return server_.http_status; }
    /// All of the above together.
    [[nodiscard]] const server_error_info& server_info() const noexcept { return server_; }

private:
    std::shared_ptr<const std::string> message_;  // shared: copying an exception never throws
    server_error_info server_;
};

namespace detail {

class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "devflow"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::access_denied: return "access denied";
            case errc::expired_token: return "device code expired";
            case errc::invalid_grant: return "invalid grant";
            case errc::invalid_client: return "invalid client";
            case errc::invalid_request: return "invalid request";
            case errc::invalid_scope: return "invalid scope";
            case errc::unauthorized_client: return "unauthorized client";
            case errc::unsupported_grant_type: return "unsupported grant type";
            case errc::server_error: return "authorization server error";
            case errc::transport_failed: return "transport failed";
            case errc::malformed_response: return "malformed response";
            case errc::insecure_endpoint: return "insecure endpoint";
            case errc::issuer_mismatch: return "issuer mismatch";
            case errc::storage_failed: return "token storage failed";
            case errc::reauth_required: return "re-authentication required";
            case errc::cancelled: return "cancelled";
            case errc::invalid_config: return "invalid configuration";
            case errc::unseal_failed: return "sealed record did not open";
        }
        return "unknown devflow error";
    }
};

/// The one place devflow throws from.
[[noreturn]] inline void throw_error(errc code, const std::string& message,
                                     server_error_info server = {}) {
    throw devflow::error(code, message, std::move(server));
}

}  // namespace detail

inline const std::error_category& error_category() noexcept {
    static const detail::error_category_impl category;
    return category;
}

}  // namespace devflow

template <>
struct std::is_error_code_enum<devflow::errc> : std::true_type {};
