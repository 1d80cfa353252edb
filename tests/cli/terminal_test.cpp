// What the user sees while the flow waits (RFC 8628 §3.3, §5.4).
#include "catch.hpp"

#include "terminal.hpp"

using namespace std::chrono_literals;

namespace {
devflow::prompt_info prompt() {
    devflow::prompt_info p;
    p.user_code = "BCDF-GHJK";
    p.verification_uri = "https://sso.example.org/device";
    p.verification_uri_complete = "https://sso.example.org/device?user_code=BCDF-GHJK";
    p.host = "sso.example.org";
    p.expires_in = 600s;
    return p;
}
std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("plain prompt lines carry the page the code the host and the phishing notice",
          "[cli][terminal]") {
    const std::string text = devflow::cli::plain_prompt(prompt());
    CHECK(text.find("devflow: to sign in, open https://sso.example.org/device and enter the code BCDF-GHJK\n") == 0);
    CHECK(text.find("devflow: or open https://sso.example.org/device?user_code=BCDF-GHJK") != std::string::npos);
    CHECK(text.find("you are signing in at sso.example.org") != std::string::npos);
    CHECK(text.find("approve only if you started this sign-in yourself") != std::string::npos);
    CHECK(text.find("expires in 10 minutes") != std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(count(text, "\n") == 4);
}

TEST_CASE("the terminal prompt draws the code large and says where to approve", "[cli][terminal]") {
    devflow::cli::fancy_options o;
    o.color = false;
    const std::string text = devflow::cli::fancy_prompt(prompt(), o);
    CHECK(text.find("\u2588") != std::string::npos);  // big letters
    CHECK(text.find("BCDF-GHJK") != std::string::npos);
    CHECK(text.find("You are signing in at sso.example.org") != std::string::npos);
    CHECK(text.find("Approve only if you started this") != std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
}

TEST_CASE("a narrow terminal gets the code without big letters or a QR code", "[cli][terminal]") {
    devflow::cli::fancy_options o;
    o.color = false;
    o.columns = 30;
    o.qr = "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588"
           "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\n";
    const std::string text = devflow::cli::fancy_prompt(prompt(), o);
    CHECK(text.find("\u2588") == std::string::npos);
    CHECK(text.find("BCDF-GHJK") != std::string::npos);
}

TEST_CASE("the QR code is drawn black on white when colours are on", "[cli][terminal]") {
    devflow::cli::fancy_options o;
    o.qr = "\u2580\u2584\n\u2584\u2580\n";
    const std::string text = devflow::cli::fancy_prompt(prompt(), o);
    CHECK(count(text, "\033[30;107m") == 2);
    CHECK(text.find("scan this code") != std::string::npos);
}

TEST_CASE("big text has four lines of six columns per character", "[cli][terminal]") {
    const auto big = devflow::cli::big_text("A-1");
    REQUIRE(big);
    REQUIRE(big->size() == 4);
    // 'A' row 0 is ".###." over row 1 "#...#": lower, upper x3, lower.
    CHECK((*big)[0].rfind("\u2584\u2580\u2580\u2580\u2584 ", 0) == 0);
    CHECK_FALSE(devflow::cli::big_text("abc"));  // never changes the case of a code
    CHECK_FALSE(devflow::cli::big_text("ABCDEFGHIJKLMNOP"));
    CHECK_FALSE(devflow::cli::big_text(""));
}

TEST_CASE("the countdown shows minutes and seconds left", "[cli][terminal]") {
    using devflow::cli::countdown_text;
    using devflow::cli::format_clock;
    CHECK(format_clock(598s) == "9:58");
    CHECK(format_clock(7s) == "0:07");
    CHECK(format_clock(3723s) == "1:02:03");
    CHECK(countdown_text(598s) == "Waiting for approval... the code expires in 9:58  (Ctrl-C to cancel)");
    CHECK(countdown_text(0s) == "The code has expired.");
}

TEST_CASE("the closing line names the server the user and the token lifetime", "[cli][terminal]") {
    CHECK(devflow::cli::signed_in_line("https://a.example", "alice", 3599s, false) ==
          "devflow: signed in to https://a.example as alice; the access token is valid for 59 minutes\n");
    CHECK(devflow::cli::signed_in_line("https://a.example", "", 30s, true) ==
          "devflow: already signed in to https://a.example; the access token is valid for 30 seconds "
          "(use --force to sign in again)\n");
}

TEST_CASE("the json prompt event leaves out verification_uri_complete when the server sent none",
          "[cli][terminal]") {
    devflow::prompt_info p;
    p.user_code = "WDJB-MJHT";
    p.verification_uri = "https://sso.example.org/device";
    p.host = "sso.example.org";
    p.expires_in = std::chrono::seconds{600};
    const auto without = devflow::cli::prompt_json(p);
    CHECK_FALSE(without.contains("verification_uri_complete"));
    CHECK(without["user_code"] == "WDJB-MJHT");
    CHECK(without["event"] == "prompt");
    p.verification_uri_complete = "https://sso.example.org/device?user_code=WDJB-MJHT";
    CHECK(devflow::cli::prompt_json(p)["verification_uri_complete"] == p.verification_uri_complete);
}

TEST_CASE("a resumed sign-in says so in the plain the drawn and the json prompt", "[cli][terminal]") {
    devflow::prompt_info p = prompt();
    CHECK(devflow::cli::plain_prompt(p).find("resuming") == std::string::npos);
    CHECK_FALSE(devflow::cli::prompt_json(p).contains("resumed"));
    p.resumed = true;
    CHECK(devflow::cli::plain_prompt(p).rfind(
              "devflow: resuming the sign-in started earlier (the same code)\n", 0) == 0);
    devflow::cli::fancy_options o;
    o.color = false;
    CHECK(devflow::cli::fancy_prompt(p, o).find("Resuming the sign-in started earlier") !=
          std::string::npos);
    CHECK(devflow::cli::prompt_json(p)["resumed"] == true);
}
