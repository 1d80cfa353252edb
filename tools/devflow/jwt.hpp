// devflow CLI — reading a JWT's payload for display (RFC 7519 §3, RFC 7515
// §7.1). Nothing here verifies a signature: the claims are shown to the
// user, never trusted for a decision. Pure; tested in tests/cli/jwt_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::cli {

/// Decodes base64url (RFC 4648 §5) with or without '=' padding;
/// std::nullopt on any character outside the alphabet or a bad length.
inline std::optional<std::string> base64url_decode(std::string_view in) {
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    if (in.size() % 4 == 1) return std::nullopt;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-') return 62;
        if (c == '_') return 63;
        return -1;
    };
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : in) {
        const int v = value(c);
        if (v < 0) return std::nullopt;
        buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFFU));
        }
    }
    // RFC 4648 §3.5: the leftover bits must be zero.
    if (bits > 0 && (buffer & ((1U << bits) - 1U)) != 0) return std::nullopt;
    return out;
}

/// The payload (claims set) of a JWS compact serialisation, as JSON text,
/// without verifying anything; std::nullopt when `token` is not three
/// base64url parts or the payload does not look like a JSON object.
inline std::optional<std::string> jwt_payload(std::string_view token) {
    // RFC 7515 §7.1: header.payload.signature.
    const auto first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;  // JWE has 5
    auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) return std::nullopt;
    std::size_t i = 0;
    while (i < payload->size() && ((*payload)[i] == ' ' || (*payload)[i] == '\n' ||
                                   (*payload)[i] == '\r' || (*payload)[i] == '\t'))
        ++i;
    if (i == payload->size() || (*payload)[i] != '{') return std::nullopt;
    return payload;
}

}  // namespace devflow::cli
