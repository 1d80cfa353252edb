// What the commands print on success: the --json objects and closing lines.
#include "catch.hpp"

#include "output.hpp"

using namespace std::chrono_literals;

namespace {
const devflow::cli::wall_time new_year{std::chrono::seconds{1767225600}};  // 2026-01-01T00:00:00Z
}  // namespace

TEST_CASE("a failure in --json names the error, the exit code and the line without its prefix",
          "[cli][output]") {
    const devflow::cli::failure f{devflow::cli::exit_code::reauth,
                                  "devflow: not signed in; run `devflow login` first", "not_signed_in"};
    CHECK(devflow::cli::error_json(f).dump() ==
          R"({"error":"not_signed_in","exit_code":7,"message":"not signed in; run `devflow login` first"})");
}

TEST_CASE("token --json gives the token its type and its expiry", "[cli][output]") {
    CHECK(devflow::cli::token_json("CANARY-access", new_year + 60s).dump() ==
          R"({"access_token":"CANARY-access","token_type":"Bearer","expires_at":1767225660})");
    CHECK(devflow::cli::token_json("CANARY-access", std::nullopt).dump() ==
          R"({"access_token":"CANARY-access","token_type":"Bearer"})");
}

TEST_CASE("login --json ends with the signed_in event carrying the status object", "[cli][output]") {
    devflow::cli::status_input s;
    s.issuer = "https://sso.example.org";
    s.client_id = "cli";
    s.cache = "/tmp/c";
    s.now = new_year;
    const auto j = devflow::cli::signed_in_json(s);
    CHECK(j.dump() == R"({"event":"signed_in","signed_in":false,"issuer":"https://sso.example.org",)"
                      R"("client_id":"cli","requested_scopes":[],"cache":"/tmp/c"})");
}

TEST_CASE("logout says what happened at the server in one line and in --json", "[cli][output]") {
    using devflow::cli::logout_line;
    CHECK(logout_line(true, true) ==
          "devflow: signed out; the tokens were revoked at the server and wiped here\n");
    CHECK(logout_line(true, false).find("did not confirm") != std::string::npos);
    CHECK(logout_line(false, false).find("no revocation endpoint") != std::string::npos);
    CHECK(devflow::cli::logout_json(true, false).dump() ==
          R"({"signed_out":true,"was_signed_in":true,"revoked":false})");
    CHECK(devflow::cli::json_line(devflow::cli::logout_json(false, false)).back() == '\n');
}
