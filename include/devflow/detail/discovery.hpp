// devflow — server metadata discovery (OpenID Connect Discovery 1.0,
// RFC 8414) and the Keycloak realm layout, as pure functions: which URLs to
// try, how to read and check a metadata document, how to name a realm's
// endpoints. No I/O; devflow/discovery.hpp wires them to the policies.
// Tested in tests/unit/discovery_test.cpp; explained in docs/discovery.md.
#pragma once

#include <devflow/config.hpp>
#include <devflow/detail/json_fields.hpp>
#include <devflow/detail/requests.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>
#include <devflow/server_metadata.hpp>
#include <devflow/types.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

namespace detail {


/// One URL to try for the metadata of an issuer.
struct metadata_location {
    std::string url;
    metadata_source source = metadata_source::openid_configuration;
};

/// Checks an issuer identifier: an absolute https URL (http only on a
/// loopback host, or with the opt-in) without query or fragment.
/// @throws devflow::error invalid_config or insecure_endpoint
inline void validate_issuer(std::string_view issuer, bool allow_http_anywhere) {
    if (issuer.empty()) throw_error(errc::invalid_config, "the issuer URL is empty");
    // RFC 8414 §2: the issuer has no query or fragment component.
    if (issuer.find_first_of("?#") != std::string_view::npos)
        throw_error(errc::invalid_config, "the issuer URL may not have a query or fragment (RFC "
                                          "8414 §2): " + display_text(issuer, 200));
    // docs/design.md §3 and RFC 8414 §2: the issuer uses https (loopback excepted).
    require_secure_endpoint("the issuer", issuer, allow_http_anywhere);
}

/// The URLs to try, in order, for the metadata of `issuer`: first OpenID
/// Connect Discovery's, then RFC 8414's.
/// @throws devflow::error invalid_config or insecure_endpoint for a bad issuer
inline std::vector<metadata_location> metadata_locations(std::string_view issuer,
                                                         bool allow_http_anywhere = false) {
    validate_issuer(issuer, allow_http_anywhere);
    const auto scheme_end = issuer.find("://") + 3;
    const auto path_start = issuer.find('/', scheme_end);
    const std::string_view origin = issuer.substr(0, path_start);
    std::string_view path =
        path_start == std::string_view::npos ? std::string_view{} : issuer.substr(path_start);
    // RFC 8414 §3.1 and OIDC Discovery §4: a terminating "/" is removed first.
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    std::vector<metadata_location> out;
    // OIDC Discovery §4: the well-known path is appended to the issuer.
    out.push_back({std::string(origin) + std::string(path) + "/.well-known/openid-configuration",
                   metadata_source::openid_configuration});
    // RFC 8414 §3: the well-known segment goes between the host and the path.
    out.push_back({std::string(origin) + "/.well-known/oauth-authorization-server" +
                       std::string(path),
                   metadata_source::oauth_authorization_server});
    return out;
}

/// The items of a member that is an array of strings; empty when absent.
/// @throws devflow::error malformed_response when it is present and not an array
inline std::vector<std::string> string_array_field(const json_object& o, std::string_view name,
                                                   std::string_view url) {
    const auto it = o.find(name);
    if (it == o.end() || it->second.type == json_value::kind::null) return {};
    if (it->second.type != json_value::kind::array)
        throw_error(errc::malformed_response, "the metadata at " + display_text(url, 200) + " has a " +
                                                  std::string(name) + " that is not an array");
    return it->second.strings;
}

/// An endpoint member: its URL, or "" when absent or null.
/// @throws devflow::error malformed_response when it is not a string
inline std::string endpoint_field(const json_object& o, std::string_view name,
                                  std::string_view url) {
    const auto it = o.find(name);
    if (it == o.end() || it->second.type == json_value::kind::null) return {};
    if (it->second.type != json_value::kind::string)
        throw_error(errc::malformed_response, "the metadata at " + display_text(url, 200) + " has a " +
                                                  std::string(name) + " that is not a string");
    return it->second.string;
}

/// Reads and checks a metadata document found at `location` for
/// `expected_issuer`.
/// @throws devflow::error issuer_mismatch when the document names another
///         issuer; invalid_config when it has no device_authorization_endpoint
///         or token_endpoint; insecure_endpoint when an endpoint is not https
///         (loopback excepted); malformed_response when a member has the wrong type.
inline server_metadata parse_server_metadata(const json_object& o, std::string_view expected_issuer,
                                             const metadata_location& location,
                                             bool allow_http_anywhere = false) {
    server_metadata m;
    m.url = location.url;
    m.source = location.source;
    const auto issuer = string_field(o, "issuer");
    if (!issuer)
        throw_error(errc::malformed_response,
                    "the metadata at " + display_text(location.url, 200) + " has no issuer");
    // RFC 8414 §3.3, OIDC Discovery §4.3: the issuer must be identical to the
    // one the document was looked up for, byte for byte (no normalising).
    if (*issuer != expected_issuer)
        throw_error(errc::issuer_mismatch,
                    "the metadata at " + display_text(location.url, 200) + " names the issuer \"" +
                        display_text(*issuer, 200) + "\", not \"" + display_text(expected_issuer, 200) +
                        "\" (they must be identical, RFC 8414 §3.3)");
    m.issuer = std::string(*issuer);
    m.grant_types_supported = string_array_field(o, "grant_types_supported", location.url);
    m.scopes_supported = string_array_field(o, "scopes_supported", location.url);
    m.token_endpoint = endpoint_field(o, "token_endpoint", location.url);
    m.device_authorization_endpoint =
        endpoint_field(o, "device_authorization_endpoint", location.url);
    m.revocation_endpoint = endpoint_field(o, "revocation_endpoint", location.url);
    const std::string userinfo = endpoint_field(o, "userinfo_endpoint", location.url);

    if (m.device_authorization_endpoint.empty()) {
        const bool listed = std::find(m.grant_types_supported.begin(),
                                      m.grant_types_supported.end(),
                                      device_code_grant_type) != m.grant_types_supported.end();
        // RFC 8628 §4: a server offering the device grant publishes this endpoint.
        throw_error(errc::invalid_config,
                    "the server at " + display_text(expected_issuer, 200) +
                        " does not offer the device flow: its metadata has no "
                        "device_authorization_endpoint (RFC 8628 §4)" +
                        (listed ? std::string(" although it lists the device_code grant")
                                : std::string{}) +
                        "; enable the OAuth 2.0 Device Authorization Grant at the server");
    }
    if (m.token_endpoint.empty())
        throw_error(errc::invalid_config, "the metadata at " + display_text(location.url, 200) +
                                              " has no token_endpoint (RFC 8414 §2)");
    // docs/design.md §3: https only (loopback excepted) for every endpoint used.
    require_secure_endpoint("the issuer's device_authorization_endpoint",
                            m.device_authorization_endpoint, allow_http_anywhere);
    require_secure_endpoint("the issuer's token_endpoint", m.token_endpoint, allow_http_anywhere);
    if (!m.revocation_endpoint.empty())
        require_secure_endpoint("the issuer's revocation_endpoint", m.revocation_endpoint,
                                allow_http_anywhere);
    // The userinfo endpoint is reported, never used by devflow: kept only when safe.
    try {
        if (!userinfo.empty()) {
            require_secure_endpoint("userinfo_endpoint", userinfo, allow_http_anywhere);
            m.userinfo_endpoint = userinfo;
        }
    } catch (const error&) {
        m.userinfo_endpoint.clear();
    }
    return m;
}

/// One metadata URL that gave no document, and its HTTP status.
struct metadata_miss {
    std::string url;
    int status = 0;
};

/// The error when no location gave a document: server_error when one of them
/// answered 5xx (try later), else invalid_config (wrong issuer URL?).
[[noreturn]] inline void throw_no_metadata(std::string_view issuer,
                                           const std::vector<metadata_miss>& misses) {
    bool server_trouble = false;
    std::string tried;
    for (const auto& m : misses) {
        if (m.status >= 500) server_trouble = true;
        if (!tried.empty()) tried += ", ";
        tried += display_text(m.url, 200) + " answered HTTP " + std::to_string(m.status);
    }
    server_error_info info;
    if (!misses.empty()) info.http_status = misses.back().status;
    throw_error(server_trouble ? errc::server_error : errc::invalid_config,
                "no metadata found for the issuer " + display_text(issuer, 200) + " (" + tried +
                    "); is the issuer URL right?",
                info);
}

/// Percent-encodes a path segment (RFC 3986 §3.3): unreserved characters,
/// sub-delims, ':' and '@' stay; everything else is %XX.
inline std::string encode_path_segment(std::string_view segment) {
    static constexpr char hex[] = "0123456789ABCDEF";
    constexpr std::string_view keep = "-._~!$&'()*+,;=:@";
    std::string out;
    for (unsigned char c : segment) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || keep.find(static_cast<char>(c)) != keep.npos;
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
    return out;
}

/// The issuer of a Keycloak realm: `BASE/realms/REALM`, where BASE is the
/// server's root URL with or without the legacy `/auth` prefix
/// (`https://sso.example.org` or `https://sso.example.org/auth`).
/// @throws devflow::error invalid_config or insecure_endpoint
inline std::string keycloak_issuer(std::string_view base_url, std::string_view realm,
                                   bool allow_http_anywhere = false) {
    while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
    if (base_url.find_first_of("?#") != std::string_view::npos)
        throw_error(errc::invalid_config,
                    "the Keycloak base URL may not have a query or fragment: " +
                        display_text(base_url, 200));
    if (realm.empty()) throw_error(errc::invalid_config, "the Keycloak realm name is empty");
    if (realm.find('/') != std::string_view::npos)
        throw_error(errc::invalid_config,
                    "the Keycloak realm name may not contain '/': " + display_text(realm, 200));
    if (base_url.find("/realms/") != std::string_view::npos)
        throw_error(errc::invalid_config,
                    "give the Keycloak base URL without /realms/...: " + display_text(base_url, 200));
    std::string issuer = std::string(base_url) + "/realms/" + encode_path_segment(realm);
    validate_issuer(issuer, allow_http_anywhere);
    return issuer;
}

/// A client_config for a Keycloak realm without discovery: Keycloak puts a
/// realm's endpoints under `ISSUER/protocol/openid-connect/`.
/// @throws devflow::error invalid_config or insecure_endpoint
inline client_config keycloak_config(std::string_view base_url, std::string_view realm,
                                     client_config base) {
    base.issuer = keycloak_issuer(base_url, realm, base.insecure_allow_http_for_non_loopback_hosts);
    const std::string oidc = base.issuer + "/protocol/openid-connect";
    base.device_authorization_endpoint = oidc + "/auth/device";  // Keycloak's RFC 8628 §3.1 endpoint
    base.token_endpoint = oidc + "/token";                       // RFC 6749 §3.2
    base.revocation_endpoint = oidc + "/revoke";                 // RFC 7009 §2
    return base;
}

}  // namespace detail
}  // namespace devflow
