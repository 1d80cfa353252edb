// devflow — the device authorization request and answer (RFC 8628 §3.1–3.2).
// Pure functions; tested in tests/unit/device_authorization_test.cpp.
#pragma once

#include <devflow/config.hpp>
#include <devflow/detail/display_text.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/detail/json_fields.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>
#include <devflow/types.hpp>

#include <string>
#include <vector>

namespace devflow::detail {

/// Scopes joined by single spaces (RFC 6749 §3.3).
inline std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (const auto& s : scopes) {
        if (s.empty()) continue;
        if (!out.empty()) out.push_back(' ');
        out += s;
    }
    return out;
}

/// Headers every token-endpoint-style request carries, plus client
/// authentication for a confidential client (RFC 6749 §2.3.1).
inline std::vector<http_header> request_headers(const client_config& cfg) {
    std::vector<http_header> headers;
    headers.push_back({"content-type", secret{"application/x-www-form-urlencoded"}});
    headers.push_back({"accept", secret{"application/json"}});
    if (!cfg.client_secret.empty())
        headers.push_back({"authorization", basic_authorization(cfg.client_id, cfg.client_secret)});
    return headers;
}

/// Appends client_id to a form for a public client. A confidential client
/// authenticates with Basic only, never both (RFC 6749 §2.3.1).
inline void add_client_id(const client_config& cfg, std::vector<form_field>& fields) {
    if (cfg.client_secret.empty()) fields.push_back({"client_id", cfg.client_id});
}

/// The device authorization request (RFC 8628 §3.1): client_id (public
/// clients), scope (space-joined, omitted when empty) and the configured
/// extra parameters.
inline http_request device_authorization_request(const client_config& cfg) {
    std::vector<form_field> fields;
    add_client_id(cfg, fields);
    const std::string scope = join_scopes(cfg.scopes);
    if (!scope.empty()) fields.push_back({"scope", scope});
    for (const auto& [name, value] : cfg.extra_parameters) fields.push_back({name, value});
    http_request req;
    req.method = http_method::post;
    req.url = cfg.device_authorization_endpoint;
    req.headers = request_headers(cfg);
    req.body = form_encode(fields);
    return req;
}

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

}  // namespace devflow::detail
