// devflow — a client_config from an issuer URL (OpenID Connect Discovery 1.0,
// RFC 8414), from the token cache without any request, or from a Keycloak
// realm's name (docs/discovery.md, docs/keycloak.md).
//
//     devflow::curl_http http;
//     devflow::nlohmann_json json;
//     devflow::file_store store;
//     auto cfg = devflow::discover_cached(http, json, store,
//                                         "https://sso.example.org/realms/lab", "my-cli",
//                                         {"openid"});
//     devflow::device_flow flow{cfg, std::move(http), json, store};
//
// The protocol decisions (URLs, checks) are pure functions in
// detail/discovery.hpp; this header wires them to the Http, Json and Storage
// policies.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/config.hpp>
#include <devflow/detail/discovery.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/error.hpp>
#include <devflow/types.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

/// `base` (client id, scopes, secret, margins, ...) with the issuer and the
/// endpoints of `metadata` filled in.
[[nodiscard]] inline client_config config_from_metadata(const server_metadata& metadata,
                                                        client_config base) {
    base.issuer = metadata.issuer;
    base.device_authorization_endpoint = metadata.device_authorization_endpoint;
    base.token_endpoint = metadata.token_endpoint;
    base.revocation_endpoint = metadata.revocation_endpoint;
    return base;
}

/// Fetches and checks the metadata of `issuer`: GET
/// `ISSUER/.well-known/openid-configuration`, and when that gives no document
/// (any answer but 200), RFC 8414's `/.well-known/oauth-authorization-server`
/// inserted before the issuer's path. The document's `issuer` must be
/// identical to `issuer`, byte for byte.
/// @throws devflow::error invalid_config (bad issuer URL, no document, no
///         device_authorization_endpoint), insecure_endpoint, issuer_mismatch,
///         transport_failed, malformed_response, server_error (5xx everywhere).
template <class Http, class Json>
server_metadata fetch_server_metadata(Http& http, Json& json, std::string_view issuer,
                                      bool insecure_allow_http_for_non_loopback_hosts = false) {
    static_assert(http_client<Http>, "Http must model devflow::http_client (docs/policies.md#http)");
    static_assert(json_codec<Json>, "Json must model devflow::json_codec (docs/policies.md#json)");
    const bool any_http = insecure_allow_http_for_non_loopback_hosts;
    std::vector<detail::metadata_miss> misses;
    for (const auto& location : detail::metadata_locations(issuer, any_http)) {
        http_request request;
        request.method = http_method::get;
        request.url = location.url;
        request.headers.push_back({"accept", secret{"application/json"}});
        const http_response response = http.send(request);
        if (!response)
            detail::throw_error(errc::transport_failed,
                                "cannot fetch " + detail::display_text(location.url, 200) + ": " +
                                    detail::display_text(response.transport_message, 200));
        // RFC 8414 §3.2: a document comes with 200 OK; anything else means "not here".
        if (response.status != 200) {
            misses.push_back({location.url, response.status});
            continue;
        }
        std::optional<json_object> document;
        if (!response.body.empty()) document = json.parse(response.body.reveal());
        if (!document)
            detail::throw_error(errc::malformed_response,
                                "the metadata at " + detail::display_text(location.url, 200) +
                                    " is not a JSON object",
                                server_error_info{{}, {}, {}, response.status});
        return detail::parse_server_metadata(*document, issuer, location, any_http);
    }
    detail::throw_no_metadata(issuer, misses);
}

/// `base` with the endpoints discovered from `base.issuer` (see
/// fetch_server_metadata); every other member (client_id, scopes, secret,
/// margins...) is kept as given.
/// @throws devflow::error as fetch_server_metadata()
template <class Http, class Json>
client_config discover(Http& http, Json& json, client_config base) {
    const server_metadata m = fetch_server_metadata(
        http, json, base.issuer, base.insecure_allow_http_for_non_loopback_hosts);
    return config_from_metadata(m, std::move(base));
}

/// A client_config for `client_id` at `issuer`, with endpoints discovered.
/// @throws devflow::error as fetch_server_metadata()
template <class Http, class Json>
client_config discover(Http& http, Json& json, std::string issuer, std::string client_id,
                       std::vector<std::string> scopes = {}) {
    client_config base;
    base.issuer = std::move(issuer);
    base.client_id = std::move(client_id);
    base.scopes = std::move(scopes);
    return discover(http, json, std::move(base));
}

/// `base` with the endpoints cached in the stored token record of
/// (base.issuer, base.client_id, base.scopes), without any network request;
/// std::nullopt when there is no such record (or it is unreadable, corrupt,
/// foreign, or lacks the token or device endpoint).
/// @throws devflow::error invalid_config when base.issuer is empty;
///         insecure_endpoint when a cached endpoint breaks the https rule.
template <class Json, class Storage>
std::optional<client_config> cached_config(Json& json, Storage& store, client_config base) {
    static_assert(json_codec<Json>, "Json must model devflow::json_codec (docs/policies.md#json)");
    static_assert(token_store<Storage>,
                  "Storage must model devflow::token_store (docs/policies.md#storage)");
    if (base.issuer.empty())
        detail::throw_error(errc::invalid_config, "client_config.issuer is empty");
    const detail::record_identity identity = detail::identity_of(base);
    std::optional<secret> bytes;
    try {
        bytes = store.load(detail::store_key(identity));
    } catch (const error&) {
        return std::nullopt;  // the flow reports an unreadable store when it uses it
    }
    if (!bytes) return std::nullopt;
    const std::optional<json_object> object = json.parse(bytes->reveal());
    if (!object) return std::nullopt;
    const detail::parsed_record record = detail::record_from_json(*object, identity);
    if (record.status != detail::record_status::ok || record.endpoints.token_endpoint.empty() ||
        record.endpoints.device_authorization_endpoint.empty())
        return std::nullopt;
    const bool any_http = base.insecure_allow_http_for_non_loopback_hosts;
    // docs/design.md §3: the https rule holds for cached endpoints too.
    detail::require_secure_endpoint("the cached token_endpoint", record.endpoints.token_endpoint,
                                    any_http);
    detail::require_secure_endpoint("the cached device_authorization_endpoint",
                                    record.endpoints.device_authorization_endpoint, any_http);
    if (!record.endpoints.revocation_endpoint.empty())
        detail::require_secure_endpoint("the cached revocation_endpoint",
                                        record.endpoints.revocation_endpoint, any_http);
    base.token_endpoint = record.endpoints.token_endpoint;
    base.device_authorization_endpoint = record.endpoints.device_authorization_endpoint;
    base.revocation_endpoint = record.endpoints.revocation_endpoint;
    return base;
}

/// cached_config() when the store holds a record for this client (no request
/// at all), else discover(): a signed-in program starts without discovery.
/// @throws devflow::error as cached_config() and fetch_server_metadata()
template <class Http, class Json, class Storage>
client_config discover_cached(Http& http, Json& json, Storage& store, client_config base) {
    static_assert(http_client<Http>, "Http must model devflow::http_client (docs/policies.md#http)");
    if (auto cached = cached_config(json, store, base)) return std::move(*cached);
    return discover(http, json, std::move(base));
}

/// discover_cached() for `client_id` at `issuer` with `scopes`.
/// @throws devflow::error as discover_cached()
template <class Http, class Json, class Storage>
client_config discover_cached(Http& http, Json& json, Storage& store, std::string issuer,
                              std::string client_id, std::vector<std::string> scopes = {}) {
    client_config base;
    base.issuer = std::move(issuer);
    base.client_id = std::move(client_id);
    base.scopes = std::move(scopes);
    return discover_cached(http, json, store, std::move(base));
}

/// A client_config for a Keycloak realm without any request: issuer
/// `BASE/realms/REALM` (BASE with or without the legacy `/auth` prefix),
/// endpoints under `ISSUER/protocol/openid-connect/` (`auth/device`, `token`,
/// `revoke`).
/// @throws devflow::error invalid_config or insecure_endpoint
inline client_config keycloak_config(std::string_view base_url, std::string_view realm,
                                     std::string client_id, std::vector<std::string> scopes = {}) {
    client_config base;
    base.client_id = std::move(client_id);
    base.scopes = std::move(scopes);
    return detail::keycloak_config(base_url, realm, std::move(base));
}

/// keycloak_config() keeping every other member of `base` (secret, margins...).
/// @throws devflow::error invalid_config or insecure_endpoint
inline client_config keycloak_config(std::string_view base_url, std::string_view realm,
                                     client_config base) {
    return detail::keycloak_config(base_url, realm, std::move(base));
}

}  // namespace devflow
