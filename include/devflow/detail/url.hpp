// devflow — the little URL handling devflow needs: scheme, host, loopback,
// the https-only rule. Pure functions; tested in tests/unit/url_test.cpp.
#pragma once

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
    std::string path;    ///< from the first '/' (with query), may be empty
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
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
        authority.remove_prefix(at + 1);  // userinfo is never used
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
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

/// True for localhost, 127.0.0.0/8 and ::1 (DESIGN.md §4).
inline bool is_loopback_host(std::string_view host) noexcept {
    if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
    if (host.size() > 10 && host.substr(host.size() - 10) == ".localhost") return true;
    // 127.a.b.c in dotted decimal.
    if (host.substr(0, 4) != "127.") return false;
    int dots = 0;
    int digits = 0;
    int octet = 0;
    for (char c : host.substr(4)) {
        if (c == '.') {
            if (digits == 0) return false;
            ++dots;
            digits = 0;
            octet = 0;
        } else if (c >= '0' && c <= '9') {
            octet = octet * 10 + (c - '0');
            // Not a dotted quad (a resolver might send it to DNS): not loopback.
            if (++digits > 3 || octet > 255) return false;
        } else {
            return false;
        }
    }
    return dots == 2 && digits > 0;
}

/// `url` for an error message: control characters (which a hostile server
/// could use to rewrite a terminal) written as \xNN.
inline std::string quoted_url(std::string_view url) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : url) {
        if (c < 0x20 || c == 0x7F) {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

/// Throws insecure_endpoint unless `url` is https, or http on a loopback host,
/// or http anywhere with the explicit opt-in. `what` names the endpoint.
inline void require_secure_endpoint(std::string_view what, std::string_view url,
                                    bool allow_http_anywhere) {
    const auto parts = parse_url(url);
    if (!parts)
        throw_error(errc::invalid_config, std::string(what) + " is not an absolute URL: " +
                                              quoted_url(url));
    if (parts->scheme == "https") return;
    if (parts->scheme == "http" && (is_loopback_host(parts->host) || allow_http_anywhere)) return;
    throw_error(errc::insecure_endpoint,
                std::string(what) + " must use https (http is allowed only for loopback hosts): " +
                    quoted_url(url));
}

/// The host of a URL for display, or an empty string.
inline std::string host_of(std::string_view url) {
    const auto parts = parse_url(url);
    return parts ? parts->host : std::string{};
}

}  // namespace devflow::detail
