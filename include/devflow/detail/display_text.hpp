// devflow — text from a server, made safe to show on a terminal or in a log.
// A hostile server controls error_description, error_uri, the user code and
// the verification URI; a raw control character or bidirectional override in
// them could rewrite what the user sees. Pure; tested in
// tests/unit/display_text_test.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The length of the well-formed UTF-8 sequence at the start of `s` and its
/// code point, or 0 when `s` does not start with one (RFC 3629 §4: no
/// overlong forms, no surrogates, nothing past U+10FFFF).
inline std::size_t utf8_sequence(std::string_view s, char32_t& code_point) noexcept {
    if (s.empty()) return 0;
    const auto b = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = b(0);
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    std::size_t n = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
        if (lead == 0xE0) low = 0xA0;   // no overlong three-byte forms
        if (lead == 0xED) high = 0x9F;  // no UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
        if (lead == 0xF0) low = 0x90;   // no overlong four-byte forms
        if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
    } else {
        return 0;
    }
    if (s.size() < n) return 0;
    if (b(1) < low || b(1) > high) return 0;
    for (std::size_t i = 2; i < n; ++i)
        if (b(i) < 0x80 || b(i) > 0xBF) return 0;
    char32_t cp = lead & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (std::size_t i = 1; i < n; ++i) cp = (cp << 6) | (b(i) & 0x3F);
    code_point = cp;
    return n;
}

/// True for code points that must never reach a terminal raw: C0 controls,
/// DEL, C1 controls (U+0080–U+009F), and the invisible bidirectional
/// formatting characters that reorder what is shown — the embeddings and
/// overrides U+202A–U+202E, the isolates U+2066–U+2069, and the marks
/// U+200E, U+200F and U+061C (Unicode UAX #9).
inline bool is_unsafe_code_point(char32_t c) noexcept {
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
}

/// True when `text` holds a control character, a bidirectional formatting
/// character or a byte that is not well-formed UTF-8: text that may not be
/// shown as it is (a user code or a verification URI with any of these is a
/// malformed answer).
inline bool has_unsafe_text(std::string_view text) noexcept {
    while (!text.empty()) {
        char32_t c = 0;
        const std::size_t n = utf8_sequence(text, c);
        if (n == 0 || is_unsafe_code_point(c)) return true;
        text.remove_prefix(n);
    }
    return false;
}

/// `text` made safe to show on one line of a terminal or a log: every unsafe
/// code point is written visibly as an escape (`\x1b`, `\u202e`), every byte
/// that is not well-formed UTF-8 as `\xNN`, a backslash stays a backslash;
/// everything else is kept. When the result would pass `max_bytes` it is cut
/// there (never inside a character or an escape) and "..." is appended.
///
/// This is the one function devflow uses for server text in what(), in the
/// log and in the CLI's output.
inline std::string display_text(std::string_view text,
                                std::size_t max_bytes = std::string_view::npos) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() < 256 ? text.size() : 256);
    while (!text.empty()) {
        char32_t c = 0;
        const std::size_t n = utf8_sequence(text, c);
        std::string piece;
        if (n == 0) {
            const auto byte = static_cast<unsigned char>(text.front());
            piece = {'\\', 'x', hex[byte >> 4], hex[byte & 0x0F]};
        } else if (c < 0x80 && is_unsafe_code_point(c)) {
            piece = {'\\', 'x', hex[c >> 4], hex[c & 0x0F]};
        } else if (is_unsafe_code_point(c)) {
            piece = "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) piece.push_back(hex[(c >> shift) & 0x0F]);
        } else {
            piece.assign(text.substr(0, n));
        }
        if (max_bytes != std::string_view::npos && out.size() + piece.size() > max_bytes) {
            out += "...";
            break;
        }
        out += piece;
        text.remove_prefix(n == 0 ? 1 : n);
    }
    return out;
}

}  // namespace devflow::detail
