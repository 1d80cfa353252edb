// Fuzz target: a server metadata document (OpenID Connect Discovery §3/§4,
// RFC 8414 §2–3) from raw bytes through the nlohmann adapter into
// detail::parse_server_metadata, checked against a fixed issuer and against
// the issuer the document itself names (when that is a valid issuer).
// Invariants: an accepted document names exactly the expected issuer and only
// secure endpoints; a refused one throws one of the documented codes; no
// message carries a control character (server text reaches terminals).
#include "../fuzz_support.hpp"

#include <devflow/detail/discovery.hpp>
#include <devflow/discovery.hpp>
#include <devflow/detail/json_fields.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>

namespace devflow_fuzz::discovery_target {

inline bool is_secure(const std::string& url) {
    try {
        devflow::detail::require_secure_endpoint("endpoint", url, false);
        return true;
    } catch (const devflow::error&) {
        return false;
    }
}

inline bool printable(std::string_view text) {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7F) return false;
    return true;
}

inline void check(const devflow::json_object& doc, const std::string& expected) {
    using devflow::errc;
    try {
        const auto locations = devflow::detail::metadata_locations(expected);
        DEVFLOW_FUZZ_CHECK(locations.size() == 2);
        for (const auto& where : locations)
            DEVFLOW_FUZZ_CHECK(devflow::detail::parse_url(where.url).has_value());
        const auto m = devflow::detail::parse_server_metadata(doc, expected, locations.front());
        // RFC 8414 §3.3: identical, byte for byte.
        DEVFLOW_FUZZ_CHECK(m.issuer == expected);
        DEVFLOW_FUZZ_CHECK(!m.device_authorization_endpoint.empty() && !m.token_endpoint.empty());
        DEVFLOW_FUZZ_CHECK(is_secure(m.device_authorization_endpoint));
        DEVFLOW_FUZZ_CHECK(is_secure(m.token_endpoint));
        DEVFLOW_FUZZ_CHECK(m.revocation_endpoint.empty() || is_secure(m.revocation_endpoint));
        DEVFLOW_FUZZ_CHECK(m.userinfo_endpoint.empty() || is_secure(m.userinfo_endpoint));
        DEVFLOW_FUZZ_CHECK(m.url == locations.front().url);
        const auto cfg = devflow::config_from_metadata(m, devflow::client_config{});
        DEVFLOW_FUZZ_CHECK(cfg.token_endpoint == m.token_endpoint);
    } catch (const devflow::error& e) {
        const auto code = e.code();
        DEVFLOW_FUZZ_CHECK(code == errc::malformed_response || code == errc::issuer_mismatch ||
                           code == errc::invalid_config || code == errc::insecure_endpoint);
        DEVFLOW_FUZZ_CHECK(printable(e.what()));
    }
}

}  // namespace devflow_fuzz::discovery_target

DEVFLOW_FUZZ_TARGET(discovery) {
    namespace self = devflow_fuzz::discovery_target;
    const auto doc = devflow::nlohmann_json{}.parse(devflow_fuzz::as_text(data, size));
    if (!doc) return 0;
    self::check(*doc, "https://sso.example.org/realms/demo");
    // The document's own issuer as the expected one gets past the issuer check.
    if (const auto issuer = devflow::detail::string_field(*doc, "issuer"))
        self::check(*doc, std::string(*issuer));
    return 0;
}
