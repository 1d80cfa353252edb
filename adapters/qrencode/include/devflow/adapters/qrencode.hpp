// devflow — qrencode: QR codes as terminal text, built on libqrencode
// (Debian: libqrencode-dev). The devflow tool uses it to show
// verification_uri_complete as a code a phone can scan (RFC 8628 §3.3.1).
//
//     if (auto text = devflow::qr_terminal_text(prompt.verification_uri_complete))
//         std::fputs(text->c_str(), stderr);
//
// Two module rows share one line of text through the half-block characters
// U+2580 (▀), U+2584 (▄) and U+2588 (█), so the code stays square in a
// terminal whose cells are twice as tall as they are wide.
#pragma once

#include <qrencode.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow {

/// A QR code symbol: `width` × `width` modules, row by row, true = dark.
struct qr_code {
    int width = 0;
    std::vector<bool> modules;

    /// True when the module at column `x`, row `y` is dark; positions
    /// outside the symbol (the quiet zone) are light.
    [[nodiscard]] bool dark(int x, int y) const noexcept {
        if (x < 0 || y < 0 || x >= width || y >= width) return false;
        return modules[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                       static_cast<std::size_t>(x)];
    }
};

/// QR error correction level: how much of the symbol may be damaged.
enum class qr_error_correction {
    low,       ///< ~7 %: the smallest symbol, fine on a screen
    medium,    ///< ~15 %
    quartile,  ///< ~25 %
    high,      ///< ~30 %
};

/// How render_qr_half_blocks() draws a symbol.
struct qr_text_options {
    /// Light modules drawn around the symbol. ISO/IEC 18004 asks for 4;
    /// 2 scans reliably from a screen and saves room.
    int quiet_zone = 2;
    /// true: characters mark dark modules (for a light background, or when the
    /// caller sets black-on-white colours around each line). false: characters
    /// mark light modules, for a light-on-dark terminal without colours (as
    /// `qrencode -t UTF8` does).
    bool ink_is_dark = true;
};

/// Encodes `text` (bytes, smallest version that fits); std::nullopt when it
/// is empty, holds a NUL byte, or does not fit in a QR code.
[[nodiscard]] inline std::optional<qr_code> encode_qr(
    std::string_view text, qr_error_correction level = qr_error_correction::low) {
    if (text.empty() || text.find('\0') != std::string_view::npos) return std::nullopt;
    QRecLevel ec = QR_ECLEVEL_L;
    switch (level) {
        case qr_error_correction::low: ec = QR_ECLEVEL_L; break;
        case qr_error_correction::medium: ec = QR_ECLEVEL_M; break;
        case qr_error_correction::quartile: ec = QR_ECLEVEL_Q; break;
        case qr_error_correction::high: ec = QR_ECLEVEL_H; break;
    }
    const std::string input(text);
    // Version 0: the smallest that fits; 8-bit hint, case-sensitive, so the
    // library may still pick denser modes for runs of digits or capitals.
    std::unique_ptr<QRcode, void (*)(QRcode*)> symbol(
        QRcode_encodeString(input.c_str(), 0, ec, QR_MODE_8, 1), &QRcode_free);
    if (!symbol || symbol->width <= 0) return std::nullopt;
    qr_code out;
    out.width = symbol->width;
    const std::size_t n = static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.width);
    out.modules.resize(n);
    // libqrencode: bit 0 of each byte is the module's colour (1 = dark).
    for (std::size_t i = 0; i < n; ++i) out.modules[i] = (symbol->data[i] & 1U) != 0;
    return out;
}

/// Draws `code` as UTF-8 text, two module rows per line, each line ending in
/// '\n'. Every line has width + 2 × quiet_zone characters.
[[nodiscard]] inline std::string render_qr_half_blocks(const qr_code& code,
                                                       qr_text_options options = {}) {
    const int q = options.quiet_zone < 0 ? 0 : options.quiet_zone;
    const int size = code.width + 2 * q;
    auto ink = [&](int x, int y) {
        const bool dark = code.dark(x - q, y - q);
        return options.ink_is_dark ? dark : !dark;
    };
    std::string out;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; ++x) {
            const bool top = ink(x, y);
            const bool bottom = y + 1 < size && ink(x, y + 1);
            if (top && bottom)
                out += "\u2588";  // █
            else if (top)
                out += "\u2580";  // ▀
            else if (bottom)
                out += "\u2584";  // ▄
            else
                out += ' ';
        }
        out += '\n';
    }
    return out;
}

/// encode_qr() then render_qr_half_blocks(); std::nullopt when `text`
/// cannot be encoded.
[[nodiscard]] inline std::optional<std::string> qr_terminal_text(
    std::string_view text, qr_text_options options = {},
    qr_error_correction level = qr_error_correction::low) {
    const auto code = encode_qr(text, level);
    if (!code) return std::nullopt;
    return render_qr_half_blocks(*code, options);
}

}  // namespace devflow
