// session_machine alone, in virtual time: no policies, no fake server. Each
// test plays the driver by hand — it gives the machine the events (answers,
// store contents, the times they happen) and asserts the steps it asks for
// and when. The RFC timing rules are the machine's, so they are tested here
// on its steps; the blocking driver's tests (flow_poll_test.cpp, ...) check
// the same rules end to end.
#include "canary.hpp"
#include "catch.hpp"

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/session_machine.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using devflow::errc;
using devflow::operation;
using devflow::record_status;
using devflow::stored_session;
using action = devflow::step::action;

namespace {

devflow::client_config config() {
    devflow::client_config c;
    c.issuer = "https://auth.example.com/realms/test";
    c.device_authorization_endpoint = c.issuer + "/device";
    c.token_endpoint = c.issuer + "/token";
    c.revocation_endpoint = c.issuer + "/revoke";
    c.client_id = "devflow-cli";
    c.scopes = {"openid"};
    return c;
}

/// Plays the driver: the clock, the answers, and the machine.
struct driver {
    devflow::session_machine m{config()};
    devflow::instant t{std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}},
                       std::chrono::steady_clock::time_point{std::chrono::hours{1000}}};
    std::chrono::steady_clock::time_point t0 = t.steady;
    devflow::nlohmann_json json;

    void advance(std::chrono::steady_clock::duration d) {
        t.steady += d;
        t.wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    }
    /// Seconds since the start, for readable checks.
    double at(std::chrono::steady_clock::time_point p) const {
        return std::chrono::duration<double>(p - t0).count();
    }
    devflow::step answer(int status, const std::string& body) {
        devflow::http_response r;
        r.status = status;
        r.body = devflow::secret{body};
        return m.on_response(r, json.parse(body), t);
    }
};

const std::string device_answer =
    R"({"device_code":"CANARY-dc","user_code":"WDJB-MJHT","verification_uri":"https://auth.example.com/device",)"
    R"("verification_uri_complete":"https://auth.example.com/device?user_code=WDJB-MJHT","expires_in":600,"interval":5})";
const std::string pending = R"({"error":"authorization_pending"})";
const std::string tokens_answer =
    R"({"access_token":"CANARY-at","token_type":"Bearer","expires_in":300,"refresh_token":"CANARY-rt","refresh_expires_in":1800})";

/// Runs a first sign-in up to the first poll wait: read, lock, read, the
/// device authorization (answered 0.3 s later), browser, pending saved, prompt.
devflow::step to_first_wait(driver& d) {
    auto s = d.m.start(operation::sign_in, d.t);
    REQUIRE(s.what == action::read_store);
    s = d.m.on_record({}, d.t);
    REQUIRE(s.what == action::lock_store);
    s = d.m.on_locked(d.t);
    REQUIRE(s.what == action::read_store);
    s = d.m.on_record({}, d.t);
    REQUIRE(s.what == action::send);
    CHECK(s.request.url == "https://auth.example.com/realms/test/device");
    d.advance(300ms);
    s = d.answer(200, device_answer);
    REQUIRE(s.what == action::open_browser);
    CHECK(s.url == "https://auth.example.com/device?user_code=WDJB-MJHT");
    s = d.m.on_browser(true, d.t);
    REQUIRE(s.what == action::write_store);
    REQUIRE(s.pending);
    CHECK(s.pending->device_code.reveal() == "CANARY-dc");
    CHECK(s.pending->user_code == "WDJB-MJHT");
    CHECK(s.pending->interval == 5s);
    s = d.m.on_written(true, d.t);
    REQUIRE(s.what == action::show_prompt);
    CHECK(s.prompt.user_code == "WDJB-MJHT");
    CHECK(s.prompt.browser_opened);
    CHECK(s.prompt.host == "auth.example.com");
    return d.m.on_prompted(d.t);
}

}  // namespace

TEST_CASE("the machine reads then locks then re-reads then asks for a device code "
          "(RFC 8628 §3.1)",
          "[session_machine]") {
    driver d;
    const auto s = to_first_wait(d);
    CHECK(s.what == action::wait);
    CHECK(d.m.holds_lock());
}

TEST_CASE("the machine's first poll is one interval after the answer and each wait counts from "
          "the previous answer (RFC 8628 §3.4)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    REQUIRE(s.what == action::wait);
    CHECK(d.at(s.until) == Approx(0.3 + 5));
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    REQUIRE(s.what == action::send);
    CHECK(s.request.body.reveal().find("device_code=CANARY-dc") != std::string::npos);
    d.advance(400ms);  // the answer takes 0.4 s
    s = d.answer(400, pending);
    REQUIRE(s.what == action::wait);
    CHECK(d.at(s.until) == Approx(0.3 + 5 + 0.4 + 5));
}

TEST_CASE("the machine raises the interval by 5 s for good after slow_down (RFC 8628 §3.5)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    s = d.answer(400, R"({"error":"slow_down"})");
    REQUIRE(s.what == action::wait);
    const double slow_at = d.at(d.t.steady);
    // 10 s, and the margin widened to a quarter of it (docs/design.md: fast clocks).
    CHECK(d.at(s.until) - slow_at == Approx(10 + 2.5));
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    s = d.answer(400, pending);
    CHECK(d.at(s.until) - d.at(d.t.steady) == Approx(12.5));  // a floor nothing lowers
}

TEST_CASE("the machine honours Retry-After on an overloaded token endpoint (RFC 9110 §10.2.3)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    devflow::http_response busy;
    busy.status = 503;
    busy.headers.push_back({"retry-after", devflow::secret{"40"}});
    s = d.m.on_response(busy, std::nullopt, d.t);
    REQUIRE(s.what == action::wait);
    CHECK(d.at(s.until) - d.at(d.t.steady) == Approx(40));
}

TEST_CASE("the machine never polls past the code's deadline and wipes the saved code "
          "(RFC 8628 §3.5)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    int polls = 0;
    while (s.what == action::wait) {
        d.advance(s.until - d.t.steady);
        s = d.m.on_time(d.t);
        if (s.what != action::send) break;
        ++polls;
        CHECK(d.at(d.t.steady) < 600 - 1);  // anchored at the request's send, less a second
        s = d.answer(400, pending);
    }
    CHECK(polls == 119);  // 5 s apart from 5.3 s; the last, at 595.3 s, is the last
                         // the interval allows before 599 s
    // The saved device code goes (the store held nothing else), then the lock.
    REQUIRE(s.what == action::erase_store);
    s = d.m.on_erased(d.t);
    REQUIRE(s.what == action::unlock_store);
    s = d.m.on_unlocked(d.t);
    REQUIRE(s.what == action::failed);
    CHECK(s.failure->code() == errc::expired_token);
    CHECK_FALSE(d.m.busy());
}

TEST_CASE("the machine stops polling when tokens arrive and stores them without the saved code "
          "(RFC 8628 §3.5)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    const auto sent = d.t.wall;
    d.advance(200ms);
    s = d.answer(200, tokens_answer);
    REQUIRE(s.what == action::write_store);
    CHECK_FALSE(s.pending);
    CHECK(s.record.access_token.reveal() == "CANARY-at");
    // Lifetimes count from the send, less a second (docs/design.md: conservative expiry).
    CHECK(*s.record.expires_at == sent - 1s + 300s);
    CHECK(s.record.session_idle_limit == 1800s);
    s = d.m.on_written(true, d.t);
    REQUIRE(s.what == action::unlock_store);
    s = d.m.on_unlocked(d.t);
    REQUIRE(s.what == action::done);
    CHECK(s.tokens->access_token.reveal() == "CANARY-at");
    REQUIRE(d.m.tokens());
}

TEST_CASE("the machine refreshes a token within the margin and keeps a rotated refresh token "
          "(RFC 6749 §6)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    s = d.answer(200, tokens_answer);
    s = d.m.on_written(true, d.t);
    s = d.m.on_unlocked(d.t);
    REQUIRE(s.what == action::done);
    const devflow::token_set signed_in = *s.tokens;

    // Fresh: served from memory, no step at all.
    d.advance(200s);
    s = d.m.start(operation::get_tokens, d.t);
    REQUIRE(s.what == action::done);

    // 50 s before expiry: read, lock, read, refresh.
    d.advance(49s);
    stored_session record;
    record.state = record_status::ok;
    record.tokens = signed_in;
    s = d.m.start(operation::get_tokens, d.t);
    REQUIRE(s.what == action::read_store);
    s = d.m.on_record(record, d.t);
    REQUIRE(s.what == action::lock_store);
    s = d.m.on_locked(d.t);
    s = d.m.on_record(record, d.t);
    REQUIRE(s.what == action::send);
    CHECK(s.request.body.reveal().find("grant_type=refresh_token&refresh_token=CANARY-rt") == 0);
    s = d.answer(200, R"({"access_token":"CANARY-at2","token_type":"Bearer","expires_in":300})");
    REQUIRE(s.what == action::write_store);
    CHECK(s.record.access_token.reveal() == "CANARY-at2");
    CHECK(s.record.refresh_token.reveal() == "CANARY-rt");  // none came back: the old one stays
    s = d.m.on_written(true, d.t);
    bool said = false;  // a driver logs what every step carries
    for (const auto& line : s.logs) said = said || line.message == "access token refreshed";
    s = d.m.on_unlocked(d.t);
    REQUIRE(s.what == action::done);
    CHECK(s.tokens->access_token.reveal() == "CANARY-at2");
    CHECK(said);
}

TEST_CASE("the machine sends at most one refresh a second (docs/design.md refresh pace)",
          "[session_machine]") {
    driver d;
    stored_session record;
    record.state = record_status::ok;
    record.tokens.access_token = devflow::secret{"CANARY-old"};
    record.tokens.token_type = "Bearer";
    record.tokens.refresh_token = devflow::secret{"CANARY-rt"};
    record.tokens.obtained_at = d.t.wall;
    record.tokens.expires_at = d.t.wall;  // born expired
    auto refresh_once = [&] {
        auto s = d.m.start(operation::get_tokens, d.t);
        s = d.m.on_record(record, d.t);
        s = d.m.on_locked(d.t);
        return d.m.on_record(record, d.t);
    };
    auto s = refresh_once();
    REQUIRE(s.what == action::send);
    s = d.answer(200, R"({"access_token":"CANARY-a1","token_type":"Bearer","expires_in":0})");
    s = d.m.on_written(true, d.t);
    s = d.m.on_unlocked(d.t);
    REQUIRE(s.what == action::done);
    d.advance(300ms);
    record.tokens = *s.tokens;
    s = refresh_once();
    REQUIRE(s.what == action::wait);  // the token is dead and the pace says not yet
    CHECK(d.at(s.until) == Approx(1.0));
}

TEST_CASE("a stop ends the machine's sign-in with cancelled and keeps the saved code for a "
          "resume (docs/design.md resumable sign-in)",
          "[session_machine]") {
    driver d;
    auto s = to_first_wait(d);
    s = d.m.on_stop(d.t);
    REQUIRE(s.what == action::unlock_store);  // no erase: the pending code stays
    s = d.m.on_unlocked(d.t);
    REQUIRE(s.what == action::failed);
    CHECK(s.failure->code() == errc::cancelled);
}

TEST_CASE("a saved sign-in is resumed with the same code and no new device authorization "
          "(docs/design.md resumable sign-in)",
          "[session_machine]") {
    driver d;
    stored_session record;
    record.state = record_status::ok;
    devflow::pending_authorization p;
    p.device_code = devflow::secret{"CANARY-dc-saved"};
    p.user_code = "SAVE-DCOD";
    p.verification_uri = "https://auth.example.com/device";
    p.expires_at = d.t.wall + 400s;
    p.interval = 10s;
    record.pending = p;
    auto s = d.m.start(operation::sign_in, d.t);
    s = d.m.on_record(record, d.t);
    s = d.m.on_locked(d.t);
    s = d.m.on_record(record, d.t);
    REQUIRE(s.what == action::show_prompt);  // no request, no browser
    CHECK(s.prompt.user_code == "SAVE-DCOD");
    CHECK(s.prompt.expires_at - d.t.steady == 400s);
    CHECK(s.prompt.resumed);  // the user may already have entered it: say so
    CHECK(s.prompt.text.rfind("Resuming the sign-in started earlier", 0) == 0);
    s = d.m.on_prompted(d.t);
    REQUIRE(s.what == action::wait);
    CHECK(d.at(s.until) == Approx(10));  // a whole interval first
    d.advance(s.until - d.t.steady);
    s = d.m.on_time(d.t);
    REQUIRE(s.what == action::send);
    CHECK(s.request.body.reveal().find("device_code=CANARY-dc-saved") != std::string::npos);
    // The code was used up elsewhere: dropped, and a new sign-in begins.
    s = d.answer(400, R"({"error":"expired_token"})");
    REQUIRE(s.what == action::send);
    CHECK(s.request.url == "https://auth.example.com/realms/test/device");
}

TEST_CASE("an event that does not answer the machine's last step is a logic error",
          "[session_machine]") {
    driver d;
    auto s = d.m.start(operation::sign_in, d.t);
    REQUIRE(s.what == action::read_store);
    CHECK_THROWS_AS((void)d.m.on_time(d.t), std::logic_error);
    CHECK_THROWS_AS((void)d.m.start(operation::sign_in, d.t), std::logic_error);
    d.m.abandon();
    CHECK_FALSE(d.m.busy());
}
