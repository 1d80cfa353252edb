// Flows (processes) that share one stored session: a logout in one ends the
// session for all (docs/security.md S2),
// and a refresh another one made while this one waited for the lock is used,
// never repeated (docs/design.md: single flight across processes). Each race
// is played deterministically by a store whose lock() first lets the other
// flow act.
#include "flow_fixture.hpp"
#include "hooked_store.hpp"
#include "temp_dir.hpp"

#include <devflow/file_store.hpp>

#include <filesystem>

using namespace devflow_test;
using devflow::errc;

namespace {

using hooked_files = hooked_store<devflow::file_store>;
using hooked_memory = hooked_store<devflow::memory_store>;

/// Warnings on stderr would be noise here; the flows' logs are captured.
devflow::file_store quiet_store(const std::filesystem::path& dir) {
    return devflow::file_store(dir, [](std::string_view) {});
}

devflow::client_config config_of(fixture& f, bool revocation, devflow::on_session_end end) {
    auto cfg = f.server.config();
    if (!revocation) cfg.revocation_endpoint.clear();
    cfg.session_end = end;
    return cfg;
}

}  // namespace

TEST_CASE("a logout in one process ends the session for another that refreshes through "
          "authorization_header (docs/security.md S2)",
          "[session_sharing][security]") {
    for (const bool revocation : {true, false}) {
        INFO("revocation endpoint: " << revocation);
        fixture f;
        temp_dir dir("devflow-sharing");
        hooked_files store(quiet_store(dir.path()));
        auto a = f.make_flow_with(store, config_of(f, revocation, devflow::on_session_end::raise));
        auto b = f.make_flow_with(store, config_of(f, revocation, devflow::on_session_end::raise));
        a->login();
        b->authorization_header();  // b has the session in memory, as a second process would
        REQUIRE(f.server.device_authorizations() == 1);

        f.clock.advance(250s);  // inside the refresh margin: b's next call refreshes
        // While b waits for the store lock, a signs out.
        store.before_next_lock([&] { a->logout(); });
        expect_error([&] { b->authorization_header(); }, errc::reauth_required);

        CHECK(f.refreshes().empty());  // the ended session was not refreshed back to life
        CHECK_FALSE(store.load(a->store_key()).has_value());
        CHECK(f.server.device_authorizations() == 1);
        // And it stays ended: no refresh from memory later either.
        f.clock.advance(10s);
        expect_error([&] { b->authorization_header(); }, errc::reauth_required);
        CHECK(f.refreshes().empty());
    }
}

TEST_CASE("after a logout elsewhere an interactive flow signs in again instead of refreshing "
          "(docs/security.md S2)",
          "[session_sharing][security]") {
    fixture f;
    temp_dir dir("devflow-sharing");
    hooked_files store(quiet_store(dir.path()));
    auto a = f.make_flow_with(store, config_of(f, false, devflow::on_session_end::interactive));
    auto b = f.make_flow_with(store, config_of(f, false, devflow::on_session_end::interactive));
    a->login();
    b->authorization_header();
    f.clock.advance(250s);
    store.before_next_lock([&] { a->logout(); });
    const auto header = b->login();
    CHECK(f.refreshes().empty());
    CHECK(f.server.device_authorizations() == 2);  // a new sign-in, as after a dead session
    CHECK(f.prompts.size() == 2);
    CHECK(f.server.accepts(header.access_token.reveal()));
}

TEST_CASE("a logout in one process stops another's keep-alive without a refresh "
          "(docs/security.md S2)",
          "[session_sharing][security][keep_alive]") {
    for (const bool revocation : {true, false}) {
        INFO("revocation endpoint: " << revocation);
        fixture f;
        temp_dir dir("devflow-sharing");
        const auto store = quiet_store(dir.path());
        auto a = f.make_flow_with(store, config_of(f, revocation, devflow::on_session_end::raise));
        auto b = f.make_flow_with(store, config_of(f, revocation, devflow::on_session_end::raise));
        a->login();
        b->authorization_header();
        const auto signed_in = f.clock.elapsed();
        bool logged_out = false;
        std::stop_source safety;
        f.clock.on_advance([&](auto elapsed) {
            if (!logged_out && elapsed - signed_in >= 10min) {
                logged_out = true;
                a->logout();  // in "another process", ten minutes in
            }
            if (elapsed - signed_in > 2h) safety.request_stop();
        });
        b->keep_alive(safety.get_token());

        CHECK(logged_out);
        CHECK_FALSE(safety.stop_requested());  // keep_alive ended by itself
        CHECK(f.refreshes().empty());          // its first due refresh was at 28 min
        CHECK_FALSE(store.load(a->store_key()).has_value());
        bool said_so = false;
        for (const auto& w : f.warnings) said_so = said_so || w.find("ended elsewhere") != std::string::npos;
        CHECK(said_so);
    }
}

TEST_CASE("a refresh made by another flow while this one waited for the lock is used and not "
          "repeated - one refresh request (RFC 6749 §6; docs/security.md S16)",
          "[session_sharing][concurrency]") {
    fixture f;
    hooked_memory store(f.store);
    auto a = f.make_flow_with(store, f.server.config());
    auto b = f.make_flow_with(store, f.server.config());
    a->login();
    b->authorization_header();
    f.clock.advance(250s);
    std::string a_header;
    store.before_next_lock([&] { a_header = a->authorization_header(); });
    const std::string b_header = b->authorization_header();
    CHECK(f.refreshes().size() == 1);
    CHECK(f.server.successful_refreshes() == 1);
    CHECK(b_header == a_header);
    CHECK(f.server.accepts(b_header.substr(7)));
}

TEST_CASE("a refresh made by another flow while keep-alive waited for the lock is used and not "
          "repeated - one refresh request (RFC 6749 §6; docs/security.md S16)",
          "[session_sharing][concurrency][keep_alive]") {
    fixture f;
    hooked_memory store(f.store);
    auto cfg = f.server.config();
    cfg.session_end = devflow::on_session_end::raise;
    auto a = f.make_flow_with(store, cfg);
    auto b = f.make_flow_with(store, cfg);
    a->login();
    b->authorization_header();
    const auto signed_in = f.clock.elapsed();
    // b's keep-alive is due 28 min in (idle 30 min, margin 2 min); just
    // before it takes the lock, a refreshes (its access token has expired).
    store.before_next_lock([&] { a->authorization_header(); });
    std::stop_source stop;
    f.clock.on_advance([&](auto elapsed) {
        if (elapsed - signed_in > 40min) stop.request_stop();
    });
    b->keep_alive(stop.get_token());
    CHECK(stop.stop_requested());
    REQUIRE(f.refreshes().size() == 1);
    CHECK(f.server.successful_refreshes() == 1);
    CHECK(f.refreshes()[0].since_start - signed_in >= 27min + 58s);  // times are stored in whole seconds
    CHECK(f.refreshes()[0].since_start - signed_in < 29min);
}
