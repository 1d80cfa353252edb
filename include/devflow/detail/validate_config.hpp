// devflow — the checks a client_config passes before any request is made.
// Pure; tested in tests/unit/refresh_test.cpp and the fault matrix's
// configuration rows.
#pragma once

#include <devflow/config.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>

#include <string>

namespace devflow::detail {

/// Checks a config before any request is made.
inline void validate_config(const client_config& cfg) {
    if (cfg.client_id.empty()) throw_error(errc::invalid_config, "client_config.client_id is empty");
    if (cfg.token_endpoint.empty())
        throw_error(errc::invalid_config, "client_config.token_endpoint is empty");
    const bool any_http = cfg.insecure_allow_http_for_non_loopback_hosts;
    // docs/design.md: https only, except loopback hosts or the explicit opt-in.
    require_secure_endpoint("token_endpoint", cfg.token_endpoint, any_http);
    if (!cfg.device_authorization_endpoint.empty())
        require_secure_endpoint("device_authorization_endpoint", cfg.device_authorization_endpoint,
                                any_http);
    if (!cfg.revocation_endpoint.empty())
        require_secure_endpoint("revocation_endpoint", cfg.revocation_endpoint, any_http);
    for (const auto& [name, value] : cfg.extra_parameters) {
        if (name.empty() || name == "client_id" || name == "scope" || name == "client_secret" ||
            name == "grant_type" || name == "device_code")
            throw_error(errc::invalid_config,
                        "client_config.extra_parameters may not set \"" + name + "\"");
    }
    for (const auto& scope : cfg.scopes)
        for (char c : scope)
            if (c == ' ' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x21)
                throw_error(errc::invalid_config,
                            "client_config.scopes holds a scope with a space or a forbidden "
                            "character (RFC 6749 §3.3)");
}

}  // namespace devflow::detail
