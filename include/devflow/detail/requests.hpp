// devflow — every request the flow sends, built in one place: the device
// authorization request (RFC 8628 §3.1), the device-code poll (§3.4), the
// refresh (RFC 6749 §6) and the revocation (RFC 7009 §2.1), each with the
// same headers and client authentication. Pure; tested in
// tests/unit/device_authorization_test.cpp and tests/unit/requests_test.cpp.
#pragma once

#include <devflow/config.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/detail/scopes.hpp>
#include <devflow/secret.hpp>
#include <devflow/types.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace devflow::detail {

/// RFC 8628 §3.4: the device_code grant type (also how servers list it in
/// grant_types_supported).
inline constexpr std::string_view device_code_grant_type =
    "urn:ietf:params:oauth:grant-type:device_code";

/// Headers every token-endpoint-style request carries, plus client
/// authentication for a confidential client (RFC 6749 §2.3.1).
inline std::vector<http_header> request_headers(const client_config& cfg) {
    std::vector<http_header> headers;
    headers.reserve(3);
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

/// A form POST to `url` with `fields`, the common headers and the client's
/// authentication. The body may hold secrets.
inline http_request form_post(const client_config& cfg, const std::string& url,
                              std::vector<form_field> fields) {
    add_client_id(cfg, fields);
    http_request req;
    req.method = http_method::post;
    req.url = url;
    req.headers = request_headers(cfg);
    req.body = form_encode(fields);
    return req;
}

/// The device authorization request (RFC 8628 §3.1): client_id (public
/// clients), scope (space-joined, omitted when empty) and the configured
/// extra parameters, in that order.
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

/// One device-code poll of the token endpoint (RFC 8628 §3.4).
inline http_request poll_request(const client_config& cfg, const secret& device_code) {
    return form_post(cfg, cfg.token_endpoint,
                     {{"grant_type", device_code_grant_type}, {"device_code", device_code.reveal()}});
}

/// A refresh (RFC 6749 §6). No scope: the same scope is kept.
inline http_request refresh_request(const client_config& cfg, const secret& refresh_token) {
    return form_post(cfg, cfg.token_endpoint,
                     {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token.reveal()}});
}

/// A revocation (RFC 7009 §2.1): the token and its type hint
/// ("refresh_token" or "access_token").
inline http_request revocation_request(const client_config& cfg, const secret& token,
                                       std::string_view hint) {
    return form_post(cfg, cfg.revocation_endpoint, {{"token", token.reveal()}, {"token_type_hint", hint}});
}

}  // namespace devflow::detail
