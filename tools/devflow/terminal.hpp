// devflow CLI — the words and pictures shown while waiting for the user
// (RFC 8628 §3.3, §5.4): plain lines for logs and pipes, and for a terminal
// the code in large letters, the host, the phishing notice, a QR code and a
// countdown line. Pure text; tested in tests/cli/terminal_test.cpp.
#pragma once

#include "failure.hpp"

#include <devflow/display.hpp>
#include <devflow/types.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

namespace font {

/// One glyph of a 5×7 dot-matrix font: seven rows of five '#'/'.' cells.
struct glyph {
    char c;
    std::array<const char*, 7> rows;
};

// The classic 5×7 LCD shapes, for the characters user codes are made of.
inline constexpr glyph glyphs[] = {
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
    {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
    {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
    {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
    {'Y', {"#...#", "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#.."}},
    {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
};

/// The glyph of `c`, or nullptr when the font has none.
inline const glyph* find(char c) {
    for (const auto& g : glyphs)
        if (g.c == c) return &g;
    return nullptr;
}

}  // namespace font

/// `text` in large letters: the 5×7 font drawn with half blocks, four lines
/// of 6 columns per character; std::nullopt when a character has no glyph
/// (lower case included, so a case-sensitive code is never shown changed)
/// or the text is longer than `max_chars`.
inline std::optional<std::vector<std::string>> big_text(std::string_view text,
                                                        std::size_t max_chars = 12) {
    if (text.empty() || text.size() > max_chars) return std::nullopt;
    std::vector<const font::glyph*> gs;
    for (char c : text) {
        const font::glyph* g = font::find(c);
        if (!g) return std::nullopt;
        gs.push_back(g);
    }
    auto lit = [&](std::size_t i, int x, int y) {
        return y < 7 && x < 5 && gs[i]->rows[static_cast<std::size_t>(y)][x] == '#';
    };
    std::vector<std::string> lines;
    for (int y = 0; y < 7; y += 2) {
        std::string line;
        for (std::size_t i = 0; i < gs.size(); ++i) {
            if (i > 0) line += ' ';
            for (int x = 0; x < 5; ++x) {
                const bool top = lit(i, x, y);
                const bool bottom = lit(i, x, y + 1);
                line += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
            }
        }
        lines.push_back(line);
    }
    return lines;
}

/// "9:58", "0:07", "1:02:03".
inline std::string format_clock(std::chrono::seconds left) {
    long long s = left.count() < 0 ? 0 : left.count();
    const long long h = s / 3600;
    const long long m = (s / 60) % 60;
    s %= 60;
    auto two = [](long long v) { return (v < 10 ? "0" : "") + std::to_string(v); };
    if (h > 0) return std::to_string(h) + ":" + two(m) + ":" + two(s);
    return std::to_string(m) + ":" + two(s);
}

/// The countdown line (without carriage return or colours).
inline std::string countdown_text(std::chrono::seconds left) {
    if (left.count() <= 0) return "The code has expired.";
    return "Waiting for approval... the code expires in " + format_clock(left) +
           "  (Ctrl-C to cancel)";
}

/// The prompt as plain lines for a log or a pipe, each starting "devflow: ".
inline std::string plain_prompt(const prompt_info& p) {
    std::string out;
    if (p.resumed) out += "devflow: resuming the sign-in started earlier (the same code)\n";
    out += "devflow: to sign in, open " + one_line(p.verification_uri) + " and enter the code " +
           one_line(p.user_code) + "\n";
    if (!p.verification_uri_complete.empty())
        out += "devflow: or open " + one_line(p.verification_uri_complete) +
               " (the code is filled in)\n";
    if (p.browser_opened) out += "devflow: a browser window has been opened at that page\n";
    // RFC 8628 §5.4: where the user is sent, and to approve only their own sign-in.
    out += "devflow: you are signing in at " + one_line(p.host) +
           "; approve only if you started this sign-in yourself, just now; if someone sent you "
           "this code or link, do not enter it\n";
    out += "devflow: the code expires in " + devflow::describe_duration(p.expires_in) +
           "; waiting for approval (Ctrl-C to cancel)\n";
    return out;
}

/// The `--json` prompt event: what to show the user, machine-readable.
/// verification_uri_complete is left out when the server sent none.
inline nlohmann::ordered_json prompt_json(const prompt_info& p) {
    nlohmann::ordered_json j;
    j["event"] = "prompt";
    j["user_code"] = p.user_code;
    j["verification_uri"] = p.verification_uri;
    if (!p.verification_uri_complete.empty()) j["verification_uri_complete"] = p.verification_uri_complete;
    j["host"] = p.host;
    j["expires_in"] = p.expires_in.count();
    j["browser_opened"] = p.browser_opened;
    if (p.resumed) j["resumed"] = true;
    return j;
}

/// How the terminal prompt is drawn.
struct fancy_options {
    bool color = true;        ///< ANSI bold and colours (off with NO_COLOR)
    int columns = 80;         ///< terminal width
    std::string qr;           ///< half-block QR code text ("" when none)
};

/// The prompt for a terminal: the code in large letters, the page, the host
/// and the phishing notice, and a QR code when given and it fits.
inline std::string fancy_prompt(const prompt_info& p, const fancy_options& o) {
    const std::string bold = o.color ? "\033[1m" : "";
    const std::string reset = o.color ? "\033[0m" : "";
    std::string out = "\n";
    out += "  To sign in, open " + bold + one_line(p.verification_uri) + reset +
           "\n  and enter the code:\n\n";
    const auto big = big_text(p.user_code);
    if (big && static_cast<int>(p.user_code.size() * 6) + 4 <= o.columns) {
        for (const auto& line : *big) out += "    " + bold + line + reset + "\n";
        out += "\n    " + bold + one_line(p.user_code) + reset + "\n\n";
    } else {
        out += "    " + bold + one_line(p.user_code) + reset + "\n\n";
    }
    if (!p.verification_uri_complete.empty()) {
        out += "  Or open " + one_line(p.verification_uri_complete) + "\n";
        if (!o.qr.empty()) {
            std::size_t width = 0;  // characters in the first line (each half block is 3 bytes)
            for (std::size_t i = 0; i < o.qr.size() && o.qr[i] != '\n'; ++i)
                if ((static_cast<unsigned char>(o.qr[i]) & 0xC0) != 0x80) ++width;
            if (static_cast<int>(width) + 4 <= o.columns) {
                out += "  or scan this code with a phone:\n\n";
                std::size_t start = 0;
                while (start < o.qr.size()) {
                    const auto end = o.qr.find('\n', start);
                    const std::string line = o.qr.substr(start, end - start);
                    // Black on white, so it scans on dark and light terminals alike.
                    out += "    " + (o.color ? "\033[30;107m" + line + "\033[0m" : line) + "\n";
                    if (end == std::string::npos) break;
                    start = end + 1;
                }
            }
        }
        out += "\n";
    }
    if (p.browser_opened) out += "  A browser window has been opened at that page.\n";
    if (p.resumed) out += "  Resuming the sign-in started earlier: the code is the same.\n";
    // RFC 8628 §5.4: where the user is sent, and to approve only their own sign-in.
    out += "  You are signing in at " + bold + one_line(p.host) + reset +
           ". Approve only if you started this\n"
           "  sign-in yourself, just now; if someone sent you this code or link, do not enter it.\n\n";
    return out;
}

/// The line `devflow login` ends with on stderr.
inline std::string signed_in_line(std::string_view issuer, std::string_view user,
                                  std::optional<std::chrono::seconds> valid_for, bool reused) {
    std::string out = reused ? "devflow: already signed in to " : "devflow: signed in to ";
    out += one_line(issuer);
    if (!user.empty()) out += " as " + one_line(user);
    if (valid_for) {
        long long s = valid_for->count() < 0 ? 0 : valid_for->count();
        out += "; the access token is valid for ";
        out += s >= 120 ? std::to_string(s / 60) + " minutes" : std::to_string(s) + " seconds";
    }
    if (reused) out += " (use --force to sign in again)";
    return out + "\n";
}

}  // namespace devflow::cli
