// devflow status: who, what, until when, and never a token.
#include "catch.hpp"

#include "status.hpp"

using namespace std::chrono_literals;
using devflow::cli::status_input;

namespace {

constexpr const char* access = "CANARY-access-token-1";
constexpr const char* refresh = "CANARY-refresh-token-1";
// {"alg":"none"} . {"sub":"u-123","preferred_username":"alice","name":"Alice Example",
// "email":"alice@example.org","exp":1767229200} . a signature
const std::string id_token =
    "eyJhbGciOiJub25lIn0."
    "eyJzdWIiOiJ1LTEyMyIsInByZWZlcnJlZF91c2VybmFtZSI6ImFsaWNlIiwibmFtZSI6IkFsaWNlIEV4YW1wbGUiLCJl"
    "bWFpbCI6ImFsaWNlQGV4YW1wbGUub3JnIiwiZXhwIjoxNzY3MjI5MjAwfQ.CANARY-signature";

const devflow::cli::wall_time new_year{std::chrono::seconds{1767225600}};  // 2026-01-01T00:00:00Z

status_input signed_in_input() {
    status_input s;
    s.issuer = "https://sso.example.org/realms/lab";
    s.client_id = "my-cli";
    s.requested_scopes = {"openid", "profile"};
    s.cache = "/home/a/.local/state/devflow";
    s.now = new_year;
    devflow::token_set t;
    t.access_token = devflow::secret{access};
    t.refresh_token = devflow::secret{refresh};
    t.id_token = devflow::secret{id_token};
    t.token_type = "Bearer";
    t.scope = "openid profile";
    t.expires_at = new_year + 3599s;
    t.refresh_expires_at = new_year + 1800s;
    t.obtained_at = new_year - 1s;
    s.tokens = t;
    return s;
}

void require_no_secret(const std::string& text) {
    CHECK(text.find("CANARY") == std::string::npos);
    CHECK(text.find(access) == std::string::npos);
    CHECK(text.find(refresh) == std::string::npos);
    CHECK(text.find(id_token) == std::string::npos);
    CHECK(text.find("eyJ") == std::string::npos);
}

}  // namespace

TEST_CASE("status shows the user the scopes and both expiries with every token redacted",
          "[cli][status]") {
    const std::string text = devflow::cli::format_status_text(signed_in_input());
    INFO(text);
    require_no_secret(text);
    CHECK(text.rfind("Signed in.\n", 0) == 0);
    CHECK(text.find("alice (sub u-123, alice@example.org)") != std::string::npos);
    CHECK(text.find("openid profile") != std::string::npos);
    CHECK(text.find("valid for 59 min (until 2026-01-01 00:59:59 UTC)") != std::string::npos);
    CHECK(text.find("session idle limit in 30 min (until 2026-01-01 00:30:00 UTC)") !=
          std::string::npos);
    CHECK(text.find("[redacted]") != std::string::npos);
    CHECK(text.find("https://sso.example.org/realms/lab") != std::string::npos);
}

TEST_CASE("status json carries claims and times but no token", "[cli][status]") {
    const auto j = devflow::cli::status_json(signed_in_input());
    require_no_secret(j.dump());
    CHECK(j["signed_in"] == true);
    CHECK(j["user"]["preferred_username"] == "alice");
    CHECK(j["user"]["sub"] == "u-123");
    CHECK(j["access_token"]["expires_at"] == 1767225600 + 3599);
    CHECK(j["access_token"]["expires_in"] == 3599);
    CHECK(j["access_token"]["valid"] == true);
    CHECK(j["refresh_token"]["usable"] == true);
    CHECK(j["id_token"]["present"] == true);
    CHECK(j["requested_scopes"].size() == 2);
}

TEST_CASE("an expired access token with a live refresh token is still signed in", "[cli][status]") {
    auto s = signed_in_input();
    s.now = new_year + 1h;
    s.tokens->refresh_expires_at = new_year + 2h;
    CHECK(devflow::cli::signed_in(s));
    const std::string text = devflow::cli::format_status_text(s);
    CHECK(text.find("expired 2026-01-01 00:59:59 UTC; refreshed on next use") != std::string::npos);
}

TEST_CASE("a session past its refresh expiry is not signed in", "[cli][status]") {
    auto s = signed_in_input();
    s.now = new_year + 2h;
    CHECK_FALSE(devflow::cli::signed_in(s));
    const std::string text = devflow::cli::format_status_text(s);
    CHECK(text.rfind("The session has ended; run `devflow login` to sign in again.", 0) == 0);
    CHECK(devflow::cli::status_json(s)["signed_in"] == false);
}

TEST_CASE("no record reads not signed in", "[cli][status]") {
    auto s = signed_in_input();
    s.tokens.reset();
    CHECK_FALSE(devflow::cli::signed_in(s));
    CHECK(devflow::cli::format_status_text(s).rfind("Not signed in; run `devflow login` to sign in.\n", 0) == 0);
    const auto j = devflow::cli::status_json(s);
    CHECK(j["signed_in"] == false);
    CHECK_FALSE(j.contains("access_token"));
}

TEST_CASE("an opaque id token leaves the user line out", "[cli][status]") {
    auto s = signed_in_input();
    s.tokens->id_token = devflow::secret{"CANARY-opaque"};
    const std::string text = devflow::cli::format_status_text(s);
    require_no_secret(text);
    CHECK(text.find("  user ") == std::string::npos);
}

TEST_CASE("claims are read from the id token payload without verification", "[cli][status]") {
    const auto c = devflow::cli::claims_of(id_token);
    CHECK(c.sub == "u-123");
    CHECK(c.display_name() == "alice");
    REQUIRE(c.id_token_expires);
    CHECK(*c.id_token_expires == new_year + 1h);
}

TEST_CASE("durations and times read naturally", "[cli][status]") {
    using devflow::cli::format_duration;
    CHECK(format_duration(45s) == "45 s");
    CHECK(format_duration(3599s) == "59 min");
    CHECK(format_duration(3900s) == "1 h 5 min");
    CHECK(format_duration(7200s) == "2 h");
    CHECK(format_duration(std::chrono::hours{51}) == "2 d 3 h");
    CHECK(format_duration(-5s) == "0 s");
    CHECK(devflow::cli::format_utc(new_year) == "2026-01-01 00:00:00 UTC");
}

TEST_CASE("status says which of the server's limits ends the session (docs/keycloak.md)",
          "[cli][status]") {
    // At sign-in the refresh token lived 30 min: the idle limit.
    status_input idle = signed_in_input();
    idle.tokens->session_idle_limit = 1800s;
    idle.tokens->refresh_expires_at = new_year + 1799s;
    CHECK(devflow::cli::format_status_text(idle).find("session idle limit in 29 min") !=
          std::string::npos);
    CHECK(devflow::cli::status_json(idle)["refresh_token"]["session_ends_by"] == "idle");

    // Nine and a half hours later Keycloak's refresh_expires_in is what is
    // left of the 10-hour maximum, shorter than the idle limit.
    status_input late = signed_in_input();
    late.tokens->session_idle_limit = 1800s;
    late.tokens->obtained_at = new_year - 1s;
    late.tokens->refresh_expires_at = new_year + 599s;
    const std::string text = devflow::cli::format_status_text(late);
    INFO(text);
    CHECK(text.find("session maximum in 9 min (until 2026-01-01 00:09:59 UTC)") != std::string::npos);
    CHECK(text.find("idle limit") == std::string::npos);
    CHECK(devflow::cli::status_json(late)["refresh_token"]["session_ends_by"] == "maximum");
}

TEST_CASE("status says whether a keep-alive runs for the session", "[cli][status]") {
    auto s = signed_in_input();
    CHECK(devflow::cli::format_status_text(s).find("keep-alive") == std::string::npos);
    CHECK_FALSE(devflow::cli::status_json(s).contains("keep_alive"));
    s.keep_alive = devflow::cli::keep_alive_state{true, 4242};
    CHECK(devflow::cli::format_status_text(s).find("\n  keep-alive     running (pid 4242)\n") !=
          std::string::npos);
    CHECK(devflow::cli::status_json(s)["keep_alive"].dump() == R"({"running":true,"pid":4242})");
    s.keep_alive = devflow::cli::keep_alive_state{false, std::nullopt};
    CHECK(devflow::cli::format_status_text(s).find("\n  keep-alive     not running\n") != std::string::npos);
    CHECK(devflow::cli::status_json(s)["keep_alive"].dump() == R"({"running":false,"pid":null})");
    CHECK(devflow::cli::keep_alive_text({true, std::nullopt}) == "running");
}
