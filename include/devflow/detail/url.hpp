// devflow — the little URL handling devflow needs: scheme, host, loopback,
// the https-only rule. Pure functions; tested in tests/unit/url_test.cpp.
#pragma once

#include <devflow/detail/display_text.hpp>
#include <devflow/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The parts of an absolute http(s) URL that devflow looks at.
struct url_parts {
    std::string scheme;  ///< lower-case
    std::string host;    ///< lower-case; IPv6 without brackets
    std::string port;    ///< as written, may be empty
    std::string path;    ///< from the first '/', '?' or '#' (query and fragment included), may be empty
    bool has_userinfo = false;  ///< the authority had "user@" before the host (dropped from `host`)
    bool ip_literal = false;    ///< the host was written in brackets (an IPv6 literal)
};

inline char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower(c);
    return out;
}

/// Splits an absolute URL; std::nullopt when it has no scheme or host, or
/// holds whitespace or control characters.
inline std::optional<url_parts> parse_url(std::string_view url) {
    for (unsigned char c : url)
        if (c <= 0x20 || c == 0x7F) return std::nullopt;
    const auto colon = url.find("://");
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    url_parts parts;
    parts.scheme = ascii_lower(url.substr(0, colon));
    for (char c : parts.scheme)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return std::nullopt;
    std::string_view rest = url.substr(colon + 3);
    const auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    if (path_start != std::string_view::npos) parts.path = std::string(rest.substr(path_start));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);  // userinfo is never used
        parts.has_userinfo = true;
    }
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        parts.ip_literal = true;
        parts.host = ascii_lower(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            parts.port = std::string(after.substr(1));
        }
    } else {
        const auto port_colon = authority.rfind(':');
        parts.host = ascii_lower(authority.substr(0, port_colon));
        if (port_colon != std::string_view::npos)
            parts.port = std::string(authority.substr(port_colon + 1));
    }
    for (char c : parts.port)
        if (c < '0' || c > '9') return std::nullopt;
    if (parts.host.empty()) return std::nullopt;
    return parts;
}

/// True for a canonical dotted-quad IPv4 address: four decimal octets of
/// 0–255 without leading zeros ("127.0.0.1", never "127.08.0.1" or "127.1",
/// which resolvers read in other ways or send to DNS).
inline bool is_canonical_ipv4(std::string_view host) noexcept {
    int octets = 0;
    while (true) {
        const auto dot = host.find('.');
        const std::string_view octet = host.substr(0, dot);
        if (octet.empty() || octet.size() > 3 || (octet.size() > 1 && octet.front() == '0'))
            return false;
        int value = 0;
        for (char c : octet) {
            if (c < '0' || c > '9') return false;
            value = value * 10 + (c - '0');
        }
        if (value > 255) return false;
        ++octets;
        if (dot == std::string_view::npos) break;
        host.remove_prefix(dot + 1);
    }
    return octets == 4;
}

/// True only for the hosts that name this machine without asking anyone:
/// `localhost`, a canonical dotted quad in 127.0.0.0/8 and `::1` (written
/// `[::1]` in a URL; parse_url drops the brackets). Anything else —
/// `evil.localhost`, `127.08.0.1`, `127.1`, `0x7f.0.0.1` — may go to DNS or be
/// read differently by a resolver, so it is not loopback (docs/design.md).
inline bool is_loopback_host(std::string_view host) noexcept {
    if (host == "localhost" || host == "::1") return true;
    return host.substr(0, 4) == "127." && is_canonical_ipv4(host);
}

/// Why a verification URI is refused, or nullptr when it is fine.
/// RFC 8628 §5.4 (remote phishing): the host devflow shows the user must be
/// the host a browser opens. So the URI must be plain printable ASCII with
/// no backslash (browsers read it as '/'), no white space, no userinfo
/// ("good.example@evil.example"), a host made only of letters, digits, '-',
/// '_' and dots (no percent escapes, which browsers decode in hosts), or a
/// canonical IPv4 address, or a bracketed IPv6 literal; a host whose last
/// label is a number must be a dotted quad (browsers read "2130706433" and
/// "0x7f.1" as IPv4 addresses).
inline const char* verification_uri_problem(std::string_view uri) noexcept {
    for (unsigned char c : uri) {
        if (c <= 0x20 || c >= 0x7F) return "holds white space, a control character or non-ASCII bytes";
        if (c == '\\') return "holds a backslash";
    }
    const auto sep = uri.find("://");
    if (sep == std::string_view::npos) return "is not an absolute http(s) URL";
    const std::string_view scheme = uri.substr(0, sep);
    if (ascii_lower(scheme) != "https" && ascii_lower(scheme) != "http") return "is not http(s)";
    std::string_view authority = uri.substr(sep + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) return "holds user information";
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return "has a malformed IPv6 host";
        host = authority.substr(1, close - 1);
        if (host.empty()) return "has no host";
        for (char c : host)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return "has a malformed IPv6 host";
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return "has a malformed host";
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
        if (host.empty()) return "has no host";
        std::string_view last_label;
        std::string_view rest = host;
        while (true) {
            const auto dot = rest.find('.');
            const std::string_view label = rest.substr(0, dot);
            if (label.empty()) return "has an empty host label";
            for (char c : label)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                    return "has a host with characters other than letters, digits, '-' and '_'";
            last_label = label;
            if (dot == std::string_view::npos) break;
            rest.remove_prefix(dot + 1);
        }
        bool numeric = last_label.size() > 1 && last_label[0] == '0' &&
                       (last_label[1] == 'x' || last_label[1] == 'X');
        if (!numeric) {
            numeric = true;
            for (char c : last_label) numeric = numeric && c >= '0' && c <= '9';
        }
        if (numeric && !is_canonical_ipv4(host)) return "has a numeric host that is not a dotted quad";
    }
    if (port.size() > 5) return "has an invalid port";
    long value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return "has an invalid port";
        value = value * 10 + (c - '0');
    }
    if (!port.empty() && (value == 0 || value > 65535)) return "has an invalid port";
    return nullptr;
}

/// Throws insecure_endpoint unless `url` is https, or http on a loopback host,
/// or http anywhere with the explicit opt-in. `what` names the endpoint.
inline void require_secure_endpoint(std::string_view what, std::string_view url,
                                    bool allow_http_anywhere) {
    const auto parts = parse_url(url);
    if (!parts)
        throw_error(errc::invalid_config, std::string(what) + " is not an absolute URL: " +
                                              display_text(url, 300));
    if (parts->scheme == "https") return;
    if (parts->scheme == "http" && (is_loopback_host(parts->host) || allow_http_anywhere)) return;
    throw_error(errc::insecure_endpoint,
                std::string(what) + " must use https (http is allowed only for loopback hosts): " +
                    display_text(url, 300));
}

/// The origin of an absolute http(s) URL (RFC 6454 §4): "scheme://host:port"
/// with the scheme and host lower-case and the default port made explicit;
/// std::nullopt when `url` is not one.
inline std::optional<std::string> origin_of(std::string_view url) {
    const auto parts = parse_url(url);
    if (!parts || (parts->scheme != "http" && parts->scheme != "https")) return std::nullopt;
    const std::string port = parts->port.empty() ? (parts->scheme == "https" ? "443" : "80") : parts->port;
    const bool ipv6 = parts->host.find(':') != std::string::npos;
    return parts->scheme + "://" + (ipv6 ? "[" + parts->host + "]" : parts->host) + ":" + port;
}

/// Throws unless `url` is at `origin` and may carry a token: the same
/// scheme, host and port (invalid_config otherwise, naming both), and https
/// or loopback http (insecure_endpoint otherwise, as for endpoints).
inline void require_same_origin(std::string_view origin, std::string_view url,
                                bool allow_http_anywhere) {
    const auto want = origin_of(origin);
    if (!want)
        throw_error(errc::invalid_config,
                    "the origin for authorized requests is not an http(s) URL: " + display_text(origin, 300));
    if (origin_of(url) != want)
        throw_error(errc::invalid_config, "the request's URL " + display_text(url, 300) +
                                              " is not at the origin the token is for (" +
                                              display_text(origin, 300) + ")");
    require_secure_endpoint("the resource server", url, allow_http_anywhere);
}

/// The host of a URL for display, or an empty string.
inline std::string host_of(std::string_view url) {
    const auto parts = parse_url(url);
    return parts ? parts->host : std::string{};
}

}  // namespace devflow::detail
