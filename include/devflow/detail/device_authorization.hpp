// devflow — the device authorization answer (RFC 8628 §3.2): what it must
// hold and how an error answer is read. (The request is built in
// detail/requests.hpp.) Pure functions; tested in
// tests/unit/device_authorization_test.cpp.
#pragma once

#include <devflow/config.hpp>
#include <devflow/detail/display_text.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/detail/requests.hpp>
#include <devflow/detail/token_response.hpp>
#include <devflow/detail/json_fields.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace devflow::detail {

/// Validates a device authorization answer (RFC 8628 §3.2) and returns it.
/// @throws devflow::error malformed_response naming the missing or bad field.
inline device_authorization parse_device_authorization(const json_object& o,
                                                       std::chrono::seconds max_expires_in) {
    auto require_string = [&](std::string_view name) -> std::string {
        const auto v = string_field(o, name);
        if (!v || v->empty())
            throw_error(errc::malformed_response,
                        "device authorization answer lacks a usable \"" + std::string(name) + "\"");
        return std::string(*v);
    };
    device_authorization da;
    // RFC 8628 §3.2: device_code, user_code, verification_uri, expires_in are REQUIRED.
    da.device_code = secret{require_string("device_code")};
    da.user_code = require_string("user_code");
    // The user code is shown on a terminal: a control or bidirectional
    // formatting character could rewrite what the user sees.
    if (has_unsafe_text(da.user_code))
        throw_error(errc::malformed_response,
                    "device authorization answer has a user_code with control, bidirectional "
                    "formatting or non-UTF-8 characters");
    // Google sends verification_url(_complete); accept the alias.
    if (string_field(o, "verification_uri"))
        da.verification_uri = require_string("verification_uri");
    else if (string_field(o, "verification_url"))
        da.verification_uri = require_string("verification_url");
    else
        throw_error(errc::malformed_response,
                    "device authorization answer lacks \"verification_uri\"");
    if (auto c = string_field(o, "verification_uri_complete"))
        da.verification_uri_complete = std::string(*c);
    else if (auto g = string_field(o, "verification_url_complete"))
        da.verification_uri_complete = std::string(*g);

    // RFC 8628 §5.4: the host shown to the user must be the host a browser opens.
    for (const std::string* uri : {&da.verification_uri, &da.verification_uri_complete}) {
        if (uri->empty()) continue;
        if (const char* problem = verification_uri_problem(*uri))
            throw_error(errc::malformed_response,
                        std::string("device authorization answer has a verification URI that ") +
                            problem);
    }

    const auto expires = seconds_field(o, "expires_in", max_expires_in);
    if (expires.status != seconds_status::ok || expires.value.count() == 0)
        throw_error(errc::malformed_response,
                    "device authorization answer has a missing, zero, negative or absurd "
                    "\"expires_in\"");
    da.expires_in = expires.value;

    // RFC 8628 §3.2: interval is OPTIONAL; absent (or null) means 5 seconds.
    // The interval is a minimum: 2.5 s waits 3 s, never 2 (RFC 8628 §3.2).
    const auto interval = seconds_field(o, "interval", std::chrono::seconds{3600}, /*round_up=*/true);
    if (interval.status == seconds_status::invalid)
        throw_error(errc::malformed_response,
                    "device authorization answer has a negative or absurd \"interval\"");
    da.interval = interval.status == seconds_status::ok ? interval.value : std::chrono::seconds{5};
    // An interval of 0 would mean polling in a tight loop; 1 s is the floor we accept.
    if (da.interval < std::chrono::seconds{1}) da.interval = std::chrono::seconds{1};
    return da;
}

/// Reads the answer to the device authorization request (RFC 8628 §3.2):
/// the validated answer, or the error it carries. `body` is the parsed body,
/// std::nullopt when it was not a JSON object.
/// @throws devflow::error transport_failed when no answer came; the server's
///         own error code (with its words) for an OAuth error body, whatever
///         the status; server_error for 5xx or 429 without one (RFC 6585 §4:
///         an overloaded server, not a malformed answer); malformed_response
///         for anything else that is not a usable answer.
inline device_authorization read_device_authorization(const http_response& resp,
                                                      const std::optional<json_object>& body,
                                                      std::chrono::seconds max_expires_in) {
    if (!resp)
        throw_error(errc::transport_failed,
                    "device authorization request failed: " + resp.transport_message);
    if (body) {
        if (auto info = error_fields(*body, resp.status))
            throw_error(errc_from_server_error(info->error),
                        "device authorization endpoint answered " + server_words(*info), *info);
    }
    if (resp.status < 200 || resp.status > 299)
        throw_error(resp.status >= 500 || resp.status == 429 ? errc::server_error
                                                             : errc::malformed_response,
                    "device authorization endpoint answered HTTP " + std::to_string(resp.status),
                    server_error_info{{}, {}, {}, resp.status});
    if (!body) throw_error(errc::malformed_response, "device authorization answer is not a JSON object");
    return parse_device_authorization(*body, max_expires_in);
}

}  // namespace devflow::detail
