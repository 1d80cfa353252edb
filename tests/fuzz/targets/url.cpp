// Fuzz target: the URL rules every endpoint passes (docs/design.md §3):
// detail::parse_url, is_loopback_host, require_secure_endpoint and host_of,
// plus the Keycloak issuer helper. Input: one URL per line (the first 8).
// Invariants: parsed parts are lower-case and free of whitespace; an endpoint
// is accepted only when it is https, or http on a loopback host; loopback
// means exactly localhost, ::1 or a canonical dotted quad in 127.0.0.0/8
// (docs/security.md S5).
#include "../fuzz_support.hpp"

#include <devflow/detail/discovery.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>

namespace devflow_fuzz::url_target {

inline bool lower_and_visible(std::string_view s) {
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7F || (c >= 'A' && c <= 'Z')) return false;
    return true;
}

/// An independent model of a loopback dotted quad: four decimal octets of at
/// most three digits without leading zeros, each <= 255, the first 127.
inline bool dotted_quad_127(std::string_view host) {
    int octets = 0;
    while (true) {
        const auto dot = host.find('.');
        const std::string_view part = host.substr(0, dot);
        if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
        int v = 0;
        for (char c : part) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        if (v > 255 || (octets == 0 && v != 127)) return false;
        ++octets;
        if (dot == std::string_view::npos) break;
        host.remove_prefix(dot + 1);
    }
    return octets == 4;
}

inline void check(std::string_view url) {
    namespace d = devflow::detail;
    const auto parts = d::parse_url(url);
    if (parts) {
        DEVFLOW_FUZZ_CHECK(!parts->scheme.empty() && lower_and_visible(parts->scheme));
        DEVFLOW_FUZZ_CHECK(!parts->host.empty() && lower_and_visible(parts->host));
        for (char c : parts->port) DEVFLOW_FUZZ_CHECK(c >= '0' && c <= '9');
        DEVFLOW_FUZZ_CHECK(d::host_of(url) == parts->host);
        const bool loopback = d::is_loopback_host(parts->host);
        const std::string& h = parts->host;
        const bool model = h == "localhost" || h == "::1" || dotted_quad_127(h);
        DEVFLOW_FUZZ_CHECK(loopback == model);
    } else {
        DEVFLOW_FUZZ_CHECK(d::host_of(url).empty());
    }
    bool accepted = true;
    try {
        d::require_secure_endpoint("endpoint", url, false);
    } catch (const devflow::error& e) {
        accepted = false;
        DEVFLOW_FUZZ_CHECK(e.code() == devflow::errc::invalid_config ||
                           e.code() == devflow::errc::insecure_endpoint);
    }
    // docs/design.md §3: https, or http on a loopback host, nothing else.
    DEVFLOW_FUZZ_CHECK(accepted == (parts && (parts->scheme == "https" ||
                                              (parts->scheme == "http" &&
                                               d::is_loopback_host(parts->host)))));
    try {
        d::require_secure_endpoint("endpoint", url, true);
        DEVFLOW_FUZZ_CHECK(parts && (parts->scheme == "https" || parts->scheme == "http"));
    } catch (const devflow::error&) {
        DEVFLOW_FUZZ_CHECK(!parts || (parts->scheme != "https" && parts->scheme != "http"));
    }
    // Keycloak: BASE/realms/REALM, with the realm as one path segment.
    try {
        const std::string issuer = d::keycloak_issuer(url, "demo");
        DEVFLOW_FUZZ_CHECK(issuer.size() >= 12 && issuer.compare(issuer.size() - 12, 12, "/realms/demo") == 0);
        DEVFLOW_FUZZ_CHECK(d::parse_url(issuer).has_value());
    } catch (const devflow::error& e) {
        DEVFLOW_FUZZ_CHECK(e.code() == devflow::errc::invalid_config ||
                           e.code() == devflow::errc::insecure_endpoint);
    }
}

}  // namespace devflow_fuzz::url_target

DEVFLOW_FUZZ_TARGET(url) {
    std::string_view in = devflow_fuzz::as_text(data, size);
    for (int lines = 0; lines < 8; ++lines) {
        const auto nl = in.find('\n');
        devflow_fuzz::url_target::check(in.substr(0, nl));
        if (nl == std::string_view::npos) break;
        in.remove_prefix(nl + 1);
    }
    return 0;
}
