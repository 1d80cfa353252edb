// detail/display_text.hpp: server text made safe for terminals and logs, and
// where devflow uses it (what(), the log, the user code). docs/security.md,
// threat "server text reaches terminals raw".
#include "flow_fixture.hpp"

#include <devflow/detail/display_text.hpp>

#include <string>
#include <string_view>

using namespace devflow_test;
using devflow::errc;
using devflow::detail::display_text;
using devflow::detail::has_unsafe_text;
using devflow::testing::respond;

namespace {

/// True when `s` holds no byte a terminal could act on: no C0 control, no
/// DEL, no C1 control encoded in UTF-8 and no bidirectional formatting character.
bool terminal_safe(std::string_view s) {
    return !has_unsafe_text(s);
}

}  // namespace

TEST_CASE("display_text escapes C0 controls and DEL visibly", "[display_text]") {
    CHECK(display_text("a\x1b[2Jb") == "a\\x1b[2Jb");
    CHECK(display_text("line\nbreak\r") == "line\\x0abreak\\x0d");
    CHECK(display_text("del\x7f") == "del\\x7f");
    CHECK(display_text(std::string_view("nul\0x", 5)) == "nul\\x00x");
}

TEST_CASE("display_text escapes C1 controls and bidirectional formatting characters",
          "[display_text]") {
    CHECK(display_text("csi\xc2\x9b" "31m") == "csi\\u009b31m");        // U+009B, the 8-bit CSI
    CHECK(display_text("a\xe2\x80\xae" "cba") == "a\\u202ecba");       // RIGHT-TO-LEFT OVERRIDE
    CHECK(display_text("\xe2\x80\xaa\xe2\x80\xac") == "\\u202a\\u202c");
    CHECK(display_text("x\xe2\x81\xa6y\xe2\x81\xa9") == "x\\u2066y\\u2069");  // isolates
    CHECK(display_text("\xe2\x80\x8f\xd8\x9c") == "\\u200f\\u061c");          // RLM, ALM
}

TEST_CASE("display_text keeps printable UTF-8 and escapes bytes that are not UTF-8",
          "[display_text]") {
    CHECK(display_text("Anmeldung fehlgeschlagen: Zugriff verweigert \xc2\xa7" "3") ==
          "Anmeldung fehlgeschlagen: Zugriff verweigert \xc2\xa7" "3");
    CHECK(display_text("\xe6\x8b\x92\xe5\x90\xa6") == "\xe6\x8b\x92\xe5\x90\xa6");  // CJK
    CHECK(display_text("bad\xff") == "bad\\xff");
    CHECK(display_text("overlong\xc0\xaf") == "overlong\\xc0\\xaf");
    CHECK(display_text("surrogate\xed\xa0\x80") == "surrogate\\xed\\xa0\\x80");
    CHECK(display_text("cut\xe2\x80") == "cut\\xe2\\x80");
}

TEST_CASE("display_text cuts at a byte budget without splitting an escape", "[display_text]") {
    CHECK(display_text("abcdef", 4) == "abcd...");
    CHECK(display_text("ab\x1b", 4) == "ab...");  // the 4-byte escape does not fit
    CHECK(display_text("abc", 3) == "abc");
}

TEST_CASE("display_text is idempotent: safe text stays as it is", "[display_text]") {
    const std::string once = display_text("a\x1b\xe2\x80\xae\xff\\b");
    CHECK(display_text(once) == once);
    CHECK(terminal_safe(once));
}

TEST_CASE("server text reaches what() and the log neutralised and stays verbatim in server_info() "
          "(docs/security.md S8)",
          "[display_text][security]") {
    fixture f;
    // A hostile token endpoint: an OSC 8 hyperlink, a screen clear, a C1 CSI
    // and a right-to-left override in its words.
    const std::string description =
        "denied \x1b]8;;https://evil.example\x07" "click\x1b]8;;\x07 \x1b[2J\xc2\x9b" "31m"
        "\xe2\x80\xae" "lanigiro";
    f.http.enqueue(f.server.token_endpoint(),
                   respond(400, R"({"error":"access_denied","error_description":")" +
                                    std::string("denied \\u001b]8;;https://evil.example\\u0007"
                                                "click\\u001b]8;;\\u0007 \\u001b[2J\\u009b31m"
                                                "\\u202elanigiro") +
                                    R"(","error_uri":"https://evil.example/\u202e"})"));
    auto flow = f.make_flow();
    const auto e = expect_error([&] { flow->login(); }, errc::access_denied);
    CHECK(terminal_safe(e.what()));
    CHECK(std::string(e.what()).find("\\x1b]8;;https://evil.example\\x07") != std::string::npos);
    CHECK(std::string(e.what()).find("\\u202elanigiro") != std::string::npos);
    CHECK(e.error_description() == description);  // verbatim for programs
    CHECK(e.error_uri() == "https://evil.example/\xe2\x80\xae");
    for (const auto& line : f.logs) CHECK(terminal_safe(line));
}

TEST_CASE("a user_code with a control or bidirectional character is a malformed answer "
          "(RFC 8628 §3.2; docs/security.md S8)",
          "[display_text][security]") {
    for (const char* user_code : {"ABCD\\u202eEFGH", "AB\\u001b[2JCD", "AB\\u009bCD",
                                  "WDJB\\u2066MJHT", "AB\\u200fCD"}) {
        INFO(user_code);
        fixture f;
        f.http.enqueue(f.server.device_endpoint(),
                       respond(200, std::string(R"({"device_code":"CANARY-dc","user_code":")") +
                                        user_code +
                                        R"(","verification_uri":"https://auth.example.com/device",)"
                                        R"("expires_in":600,"interval":5})"));
        auto flow = f.make_flow();
        expect_error([&] { flow->login(); }, errc::malformed_response);
        CHECK(f.prompts.empty());
        CHECK(f.browser.opened().empty());
        CHECK(f.polls().empty());
    }
}

TEST_CASE("a verification URI with a control or bidirectional character is a malformed answer "
          "(RFC 8628 §5.4; docs/security.md S9)",
          "[display_text][security]") {
    for (const char* uri : {"https://auth.example.com/\\u202edevice",
                            "https://auth.example.com/\\u0085", "https://good.example\\\\@evil.example/"}) {
        INFO(uri);
        fixture f;
        f.http.enqueue(f.server.device_endpoint(),
                       respond(200, std::string(R"({"device_code":"CANARY-dc","user_code":"ABCD-EFGH",)"
                                                R"("verification_uri":")") +
                                        uri + R"(","expires_in":600,"interval":5})"));
        auto flow = f.make_flow();
        expect_error([&] { flow->login(); }, errc::malformed_response);
        CHECK(f.prompts.empty());
        CHECK(f.browser.opened().empty());
    }
}
