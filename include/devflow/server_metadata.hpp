// devflow — what discovery reads from an authorization server's metadata
// document (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, RFC 8628 §4);
// returned by devflow::fetch_server_metadata (docs/discovery.md).
#pragma once

#include <string>
#include <vector>

namespace devflow {

/// Where a metadata document was found.
enum class metadata_source {
    openid_configuration,        ///< /.well-known/openid-configuration (OIDC Discovery §4)
    oauth_authorization_server,  ///< /.well-known/oauth-authorization-server (RFC 8414 §3)
};

/// What devflow reads from an authorization server's metadata document
/// (RFC 8414 §2, OpenID Connect Discovery §3, RFC 8628 §4).
struct server_metadata {
    std::string issuer;                         ///< identical to the issuer asked for
    std::string device_authorization_endpoint;  ///< RFC 8628 §4
    std::string token_endpoint;                 ///< RFC 8414 §2
    std::string revocation_endpoint;            ///< RFC 8414 §2 (RFC 7009); empty when absent
    std::string userinfo_endpoint;              ///< OIDC Discovery §3; empty when absent or not https
    std::vector<std::string> grant_types_supported;  ///< empty when absent
    std::vector<std::string> scopes_supported;       ///< empty when absent
    metadata_source source = metadata_source::openid_configuration;
    std::string url;  ///< the document's URL
};

}  // namespace devflow
