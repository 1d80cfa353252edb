// The qrencode adapter: a real symbol from libqrencode, drawn with half blocks.
#include "catch.hpp"

#include <devflow/adapters/qrencode.hpp>

namespace {
std::size_t characters(const std::string& line) {
    std::size_t n = 0;
    for (unsigned char c : line)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}
}  // namespace

TEST_CASE("a short text becomes a version 1 symbol with its finder patterns", "[cli][qrencode]") {
    const auto code = devflow::encode_qr("HELLO");
    REQUIRE(code);
    CHECK(code->width == 21);
    // ISO/IEC 18004 finder pattern: a dark 7x7 ring around a light ring and a dark 3x3 core.
    for (int i = 0; i < 7; ++i) {
        CHECK(code->dark(i, 0));
        CHECK(code->dark(0, i));
        CHECK(code->dark(code->width - 1 - i, 0));
        CHECK(code->dark(0, code->width - 1 - i));
    }
    CHECK_FALSE(code->dark(1, 1));
    CHECK(code->dark(3, 3));
    CHECK_FALSE(code->dark(7, 7));    // separator
    CHECK_FALSE(code->dark(-1, 0));   // quiet zone
}

TEST_CASE("a sign-in link fits a small symbol", "[cli][qrencode]") {
    const auto code = devflow::encode_qr("https://sso.example.org/realms/lab/device?user_code=BCDF-GHJK");
    REQUIRE(code);
    CHECK(code->width <= 37);  // version 5 or lower at level L
}

TEST_CASE("empty text and NUL bytes are not encoded", "[cli][qrencode]") {
    CHECK_FALSE(devflow::encode_qr(""));
    CHECK_FALSE(devflow::encode_qr(std::string_view("a\0b", 3)));
}

TEST_CASE("half blocks put two module rows on one line", "[cli][qrencode]") {
    devflow::qr_code code;
    code.width = 3;
    //  row 0: dark  light dark
    //  row 1: dark  dark  light
    //  row 2: light dark  light
    code.modules = {true, false, true, true, true, false, false, true, false};
    devflow::qr_text_options o;
    o.quiet_zone = 0;
    CHECK(devflow::render_qr_half_blocks(code, o) == "\u2588\u2584\u2580\n \u2580 \n");
    o.ink_is_dark = false;
    CHECK(devflow::render_qr_half_blocks(code, o) == " \u2580\u2584\n\u2580 \u2580\n");
}

TEST_CASE("the rendered symbol is square with its quiet zone", "[cli][qrencode]") {
    const auto text = devflow::qr_terminal_text("HELLO");
    REQUIRE(text);
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text->size()) {
        const auto end = text->find('\n', start);
        lines.push_back(text->substr(start, end - start));
        start = end + 1;
    }
    // 21 modules + 2 x 2 quiet zone = 25 columns and 13 lines of two rows each.
    CHECK(lines.size() == 13);
    for (const auto& line : lines) CHECK(characters(line) == 25);
    CHECK(lines.front() == std::string(25, ' '));
}
