// devflow — standard base64 (RFC 4648 §4), encode and strict decode.
// Pure functions; tested in tests/stores/base64_test.cpp.
#pragma once

#include <devflow/secret.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// Standard base64 with padding (RFC 4648 §4). The result is sized once
/// (no reallocation leaves a copy of `in` behind).
inline std::string base64_encode(std::string_view in) {
    static constexpr char table[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out.push_back(table[(v >> 18) & 63]);
        out.push_back(table[(v >> 12) & 63]);
        out.push_back(table[(v >> 6) & 63]);
        out.push_back(table[v & 63]);
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out.push_back(table[(v >> 18) & 63]);
        out.push_back(table[(v >> 12) & 63]);
        out.append("==");
    } else if (i + 2 == in.size()) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8);
        out.push_back(table[(v >> 18) & 63]);
        out.push_back(table[(v >> 12) & 63]);
        out.push_back(table[(v >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

/// The value (0-63) of one base64 digit, or -1 for any other byte.
constexpr int base64_digit(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/// Decodes standard base64 with padding (RFC 4648 §4), strictly: the length
/// is a multiple of four, only the alphabet and final '=' padding appear, and
/// the bits a padded group leaves over are zero (so each text has one
/// decoding). std::nullopt for anything else. The result is sized once, and
/// what was decoded before a bad digit is wiped (it may be a record).
inline std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    if (!in.empty() && in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(in.size() / 4 * 3 - pad);
    auto refuse = [&out]() -> std::optional<std::string> {
        wipe(out);
        return std::nullopt;
    };
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        const std::size_t digits = last ? 4 - pad : 4;
        unsigned v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            int d = 0;
            if (k < digits) {
                d = base64_digit(in[i + k]);
                if (d < 0) return refuse();
            } else if (in[i + k] != '=') {
                return refuse();
            }
            v = (v << 6) | static_cast<unsigned>(d);
        }
        out.push_back(static_cast<char>((v >> 16) & 0xFF));
        if (digits == 2) {
            if ((v & 0xFFFF) != 0) return refuse();  // leftover bits must be zero
            continue;
        }
        out.push_back(static_cast<char>((v >> 8) & 0xFF));
        if (digits == 3) {
            if ((v & 0xFF) != 0) return refuse();
            continue;
        }
        out.push_back(static_cast<char>(v & 0xFF));
    }
    return out;
}

}  // namespace devflow::detail
