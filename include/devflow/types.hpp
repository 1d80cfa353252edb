// devflow — the vocabulary types the policies and the flow exchange.
#pragma once

#include <devflow/secret.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

// ---------------------------------------------------------------- HTTP

/// The HTTP methods devflow uses.
enum class http_method { get, post };

/// One HTTP header. Values may carry credentials (Authorization), so they are
/// secrets; names are lower-case in responses.
struct http_header {
    std::string name;
    secret value;
};

/// One request the flow asks the Http policy to send.
struct http_request {
    http_method method = http_method::post;
    std::string url;
    std::vector<http_header> headers;  ///< e.g. content-type, accept, authorization
    secret body;                       ///< form-encoded; may carry a device code or token
};

/// Why a request got no HTTP answer. `none` means an answer arrived.
enum class transport_error {
    none = 0,
    dns,        ///< The host name did not resolve.
    connect,    ///< No connection (refused, unreachable, reset before an answer).
    tls,        ///< TLS handshake or certificate verification failed.
    timeout,    ///< Connect or total timeout.
    too_large,  ///< The body or the header block passed the adapter's caps.
    other,      ///< Anything else (protocol error, redirect refused, ...).
};

/// The answer to one request, or the transport failure that prevented one.
/// Policies never throw for network trouble; they return it here.
struct http_response {
    int status = 0;                    ///< HTTP status; 0 when transport != none
    std::vector<http_header> headers;  ///< names lower-case
    secret body;                       ///< may carry tokens
    transport_error transport = transport_error::none;
    std::string transport_message;     ///< human text, never containing a secret

    /// True when an HTTP answer arrived (whatever its status).
    explicit operator bool() const noexcept { return transport == transport_error::none; }

    /// The first header called `name` (case-insensitive), if any.
    [[nodiscard]] const secret* header(std::string_view name) const noexcept {
        for (const auto& h : headers) {
            if (h.name.size() != name.size()) continue;
            bool same = true;
            for (std::size_t i = 0; i < name.size() && same; ++i) {
                auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
                same = lower(h.name[i]) == lower(name[i]);
            }
            if (same) return &h.value;
        }
        return nullptr;
    }
};

// ---------------------------------------------------------------- JSON

/// One member of a flat JSON object. Nested arrays and objects are kept as
/// kind `array`/`object` with their string items (arrays of strings only),
/// which is all OAuth responses need.
struct json_value {
    enum class kind { null, boolean, number, string, array, object };
    kind type = kind::null;
    bool boolean = false;
    double number = 0;
    std::string string;                ///< for kind::string
    std::vector<std::string> strings;  ///< for kind::array: its string items

    static json_value make_null() { return {}; }
    static json_value make_bool(bool b) { json_value v; v.type = kind::boolean; v.boolean = b; return v; }
    static json_value make_number(double n) { json_value v; v.type = kind::number; v.number = n; return v; }
    static json_value make_string(std::string s) {
        json_value v; v.type = kind::string; v.string = std::move(s); return v;
    }

    ~json_value() {
        // Values may be tokens: wipe string storage on the way out.
        detail::wipe(string);
        for (auto& s : strings) detail::wipe(s);
    }
    json_value() = default;
    json_value(const json_value&) = default;
    json_value(json_value&&) noexcept = default;
    json_value& operator=(const json_value&) = default;
    json_value& operator=(json_value&&) noexcept = default;
};

/// A parsed JSON object: member name to value, names unique.
using json_object = std::map<std::string, json_value, std::less<>>;

// ---------------------------------------------------------------- tokens

/// The tokens of one session (RFC 6749 §5.1), as the flow keeps them.
struct token_set {
    secret access_token;
    std::string token_type;  ///< normalised: "Bearer" for any case of "bearer"
    /// Wall-clock expiry of access_token (from expires_in at receipt); absent
    /// when the server did not say, in which case it is treated as valid.
    std::optional<std::chrono::system_clock::time_point> expires_at;
    secret refresh_token;
    /// Wall-clock expiry of refresh_token (Keycloak's refresh_expires_in).
    std::optional<std::chrono::system_clock::time_point> refresh_expires_at;
    std::string scope;       ///< as granted, if the server said
    secret id_token;
    /// When the access token's lifetime counts from (wall clock): when its
    /// request was sent, less a second of server rounding.
    std::chrono::system_clock::time_point obtained_at{};
    /// The refresh token's lifetime when the session began (Keycloak's idle
    /// limit, from refresh_expires_in at sign-in): a later refresh token
    /// that lives shorter means the session's maximum binds first.
    std::optional<std::chrono::seconds> session_idle_limit;

    /// True when the access token has not expired at `now` (it may be within
    /// the refresh margin). No expiry given means no known expiry.
    [[nodiscard]] bool access_token_valid(std::chrono::system_clock::time_point now) const {
        return !access_token.empty() && (!expires_at || now < *expires_at);
    }
    /// True when a refresh token exists and, as far as the server said, is
    /// alive at `now`: the session can still produce access tokens.
    [[nodiscard]] bool refresh_token_valid(std::chrono::system_clock::time_point now) const {
        return !refresh_token.empty() && (!refresh_expires_at || now < *refresh_expires_at);
    }
    /// True when the session will end at the server's maximum before its
    /// idle limit: the refresh token lives shorter than the idle limit seen
    /// at sign-in (Keycloak sends refresh_expires_in = min(idle left,
    /// maximum left); docs/keycloak.md).
    [[nodiscard]] bool ends_at_session_maximum() const {
        if (!refresh_expires_at || !session_idle_limit) return false;
        const auto life = std::chrono::duration_cast<std::chrono::seconds>(*refresh_expires_at - obtained_at);
        return life + std::chrono::seconds{1} < *session_idle_limit;
    }
};

/// The answer to a device authorization request (RFC 8628 §3.2).
struct device_authorization {
    secret device_code;
    std::string user_code;
    std::string verification_uri;
    std::string verification_uri_complete;  ///< empty when not sent
    std::chrono::seconds expires_in{0};
    std::chrono::seconds interval{5};       ///< 5 s when absent or null
};

/// What the prompt callback is given to show the user (RFC 8628 §3.3).
struct prompt_info {
    std::string user_code;
    std::string verification_uri;
    std::string verification_uri_complete;  ///< empty when not sent
    std::string host;                       ///< host of the page the user is sent to
    std::chrono::seconds expires_in{0};
    std::chrono::steady_clock::time_point expires_at{};  ///< steady deadline
    bool browser_opened = false;
    /// The code was first shown by an earlier run for the same store key
    /// (a login interrupted by Ctrl-C or a crash), whose polling this one
    /// resumes: the user may already have entered it.
    bool resumed = false;
    std::string text;  ///< a ready-made message, with the phishing notice (§5.4)
};

/// Severity of a message given to the log callback.
enum class log_level { debug, info, warning };

}  // namespace devflow
