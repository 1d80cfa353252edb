// Sessions end to end against the real OpenID provider, through both shipped
// transports: silent refresh with rotation when the access token expires, a
// second flow sharing the store, a replayed refresh token (invalid_grant) and
// logout with revocation. Access tokens live 4 s here, so a token turns
// "stale" (inside the refresh margin, capped at half its lifetime) 2 s after
// it was issued. The store keeps times in whole seconds, so a record read
// back may look stale up to 1 s sooner than the copy in memory: 4 s leaves
// room for that.
#include "catch.hpp"
#if defined(DEVFLOW_CATCH_V3)
#include <catch2/catch_template_test_macros.hpp>
#endif

#include "support/provider.hpp"
#include "support/scenario.hpp"
#include "support/simulated_user.hpp"
#include "support/test_certificate.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/file_store.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace devflow_test;

/// A flow over an observed shipped transport with a file store.
template <class Http>
using file_flow = devflow::device_flow<observed_http<Http>, devflow::nlohmann_json, devflow::file_store,
                                       devflow::system_clock, user_browser>;

std::shared_ptr<simulated_user> make_user(int after_polls) {
    user_options o;
    o.after_polls = after_polls;
    return std::make_shared<simulated_user>(o);
}

/// The access token lifetime of this file. Anchored a second early and with
/// a margin of half its lifetime, a token is fresh for about 2.5 s after it
/// arrives: room for a second flow to read it from the store on a loaded
/// machine (4 s left 1.5 s, which a parallel run under load overran).
constexpr auto token_ttl = 6s;

/// The provider settings of this file: interval 1 s, short access tokens.
provider_settings short_tokens() {
    return with_env({{"DEVFLOW_INTERVAL", "1"},
                     {"DEVFLOW_ACCESS_TOKEN_TTL", std::to_string(token_ttl.count())},
                     {"DEVFLOW_REFRESH_EXPIRES_IN", "1"}});
}

/// Sleeps until a token received in memory (login() or a refresh's answer)
/// stops being fresh: half its lifetime before expiry (the refresh margin's
/// cap), plus a little.
void sleep_until_stale(const devflow::token_set& t) {
    REQUIRE(t.expires_at.has_value());
    sleep_until_wall(*t.expires_at - (*t.expires_at - t.obtained_at) / 2, 150ms);
}

/// Sleeps until a token received at or before `received_by` stops being fresh.
void sleep_until_stale_after(std::chrono::system_clock::time_point received_by) {
    sleep_until_wall(received_by + token_ttl / 2, 150ms);
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEMPLATE_TEST_CASE("An expired access token is refreshed silently and the rotated refresh token is stored",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(short_tokens());
    temp_dir dir;
    auto user = make_user(0);
    file_flow<TestType> flow(server.public_client(), observed_adapter<TestType>(server, user), {},
                             devflow::file_store(dir.path() / "tokens"), {}, user_browser{user});
    auto out = capture_output(flow);

    const devflow::token_set first = flow.login();
    INFO("simulated user: " << user->wait().output);
    const std::string first_header = flow.authorization_header();  // from memory
    const auto stored_first = flow.stored_tokens();
    REQUIRE(stored_first.has_value());
    const devflow::secret first_refresh = stored_first->refresh_token;
    CHECK_FALSE(first_refresh.empty());
    // Keycloak's refresh_expires_in (DEVFLOW_REFRESH_EXPIRES_IN=1) is kept.
    REQUIRE(stored_first->refresh_expires_at.has_value());
    CHECK(*stored_first->refresh_expires_at > std::chrono::system_clock::now() + 86000s);

    // Past its real expiry the provider refuses the old access token (devflow's
    // expires_at is a second early on purpose: docs/design.md)...
    sleep_until_wall(*first.expires_at + devflow::detail::server_rounding, 300ms);
    CHECK(get_userinfo<TestType>(server, first_header).status == 401);
    // ...and the flow refreshes without a prompt (RFC 6749 §6).
    const std::string second_header = flow.authorization_header();
    const bool header_changed = second_header != first_header;
    CHECK(header_changed);
    CHECK(get_userinfo<TestType>(server, second_header).status == 200);
    CHECK(out->prompt_count() == 1);
    CHECK(user->visits() == 1);

    // Rotation: the store holds the new refresh token, and the file no longer
    // holds the old one.
    const auto stored_second = flow.stored_tokens();
    REQUIRE(stored_second.has_value());
    const bool rotated = !(stored_second->refresh_token == first_refresh);
    CHECK(rotated);
    CHECK_FALSE(stored_second->refresh_token.empty());
    const auto file = flow.store().path_for(flow.store_key());
    const std::string bytes = read_file(file);
    CHECK(bytes.find(stored_second->refresh_token.reveal()) != std::string::npos);
    CHECK(bytes.find(first_refresh.reveal()) == std::string::npos);
    struct ::stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"refresh_requests"}) == 1);
    CHECK(count_at(stats, {"token_successes", "refresh_token"}) == 1);
    CHECK(count_at(stats, {"device_authorization_requests"}) == 1);
    CHECK(count_at(stats, {"token_errors", "invalid_grant"}) == 0);
    const auto refreshes = flow.http().journal().of(exchange_kind::refresh);
    REQUIRE(refreshes.size() == 1);
    CHECK(refreshes[0].status == 200);
    CHECK(leak_free(out->all_text(), {&first_refresh, &stored_second->refresh_token,
                                      &stored_second->access_token}));
}

TEMPLATE_TEST_CASE("A second flow sharing the store takes the rotated record and never replays the old refresh token",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(short_tokens());
    temp_dir dir;
    const auto store_dir = dir.path() / "tokens";
    auto user = make_user(0);
    auto nobody = make_user(-1);
    file_flow<TestType> first(server.public_client(), observed_adapter<TestType>(server, user), {},
                              devflow::file_store(store_dir), {}, user_browser{user});
    file_flow<TestType> second(server.public_client(), observed_adapter<TestType>(server, nobody), {},
                               devflow::file_store(store_dir), {}, user_browser{nobody});
    auto first_out = capture_output(first);
    auto second_out = capture_output(second);

    const devflow::token_set tokens = first.login();
    INFO("simulated user: " << user->wait().output);
    // The second flow (another process, say) finds the record in the store.
    const std::string a1 = first.authorization_header();
    const std::string b1 = second.authorization_header();
    const bool same_at_start = a1 == b1;
    CHECK(same_at_start);
    CHECK(second_out->prompt_count() == 0);

    sleep_until_stale(tokens);
    const std::string a2 = first.authorization_header();  // refreshes: the old refresh token is spent
    // The second flow still holds the old record in memory; it re-reads the
    // store before refreshing (docs/design.md §2) and takes the rotated one.
    const std::string b2 = second.authorization_header();
    const bool refreshed = a2 != a1;
    const bool shared = b2 == a2;
    CHECK(refreshed);
    CHECK(shared);
    CHECK(second.http().journal().of(exchange_kind::refresh).empty());
    CHECK(get_userinfo<TestType>(server, b2).status == 200);

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"refresh_requests"}) == 1);
    CHECK(count_at(stats, {"token_errors", "invalid_grant"}) == 0);
    CHECK(count_at(stats, {"grants_revoked"}) == 0);
}

TEMPLATE_TEST_CASE("A stale copy of the store replays a refresh token and a non-interactive flow raises reauth_required",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(short_tokens());
    temp_dir dir;
    auto user = make_user(0);
    auto nobody = make_user(-1);
    devflow::client_config cfg = server.public_client();
    cfg.session_end = devflow::on_session_end::raise;
    file_flow<TestType> original(cfg, observed_adapter<TestType>(server, user), {},
                                 devflow::file_store(dir.path() / "original"), {}, user_browser{user});
    file_flow<TestType> copy(cfg, observed_adapter<TestType>(server, nobody), {},
                             devflow::file_store(dir.path() / "copy"), {}, user_browser{nobody});
    auto original_out = capture_output(original);
    auto copy_out = capture_output(copy);

    const devflow::token_set tokens = original.login();
    INFO("simulated user: " << user->wait().output);
    // A backup of the token file, restored elsewhere (or a second machine).
    const auto record = original.store().load(original.store_key());
    REQUIRE(record.has_value());
    copy.store().save(copy.store_key(), *record);

    sleep_until_stale(tokens);
    const std::string rotated_header = original.authorization_header();  // rotates the refresh token
    const auto rotated_by = std::chrono::system_clock::now();
    CHECK(get_userinfo<TestType>(server, rotated_header).status == 200);

    // The copy replays the spent refresh token: invalid_grant. It re-reads its
    // store, finds nothing newer, and the session is over (docs/design.md §2).
    const auto copy_error = error_from([&] { (void)copy.authorization_header(); });
    REQUIRE(copy_error.has_value());
    INFO("what(): " << copy_error->what());
    CHECK(copy_error->code() == devflow::errc::reauth_required);
    CHECK_FALSE(copy.stored_tokens().has_value());  // the dead record is gone
    CHECK(copy_out->prompt_count() == 0);           // raise: no device flow
    CHECK(nobody->visits() == 0);
    const auto copy_refreshes = copy.http().journal().of(exchange_kind::refresh);
    REQUIRE(copy_refreshes.size() == 1);
    CHECK(copy_refreshes[0].error == "invalid_grant");

    // oidc-provider answers a replay by revoking the whole grant: the
    // original's rotated tokens die too, and its next refresh ends the same way.
    CHECK(get_userinfo<TestType>(server, rotated_header).status == 401);
    const auto current = original.stored_tokens();
    REQUIRE(current.has_value());
    sleep_until_stale_after(rotated_by);
    const auto original_error = error_from([&] { (void)original.authorization_header(); });
    REQUIRE(original_error.has_value());
    CHECK(original_error->code() == devflow::errc::reauth_required);
    CHECK_FALSE(original.stored_tokens().has_value());

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"refresh_requests"}) == 3);
    CHECK(count_at(stats, {"token_successes", "refresh_token"}) == 1);
    CHECK(count_at(stats, {"token_errors", "invalid_grant"}) == 2);
    CHECK(count_at(stats, {"grants_revoked"}) >= 1);
    CHECK(count_at(stats, {"device_authorization_requests"}) == 1);
    CHECK(leak_free(copy_out->all_text() + original_out->all_text(), secrets_of(*current)));
}

TEMPLATE_TEST_CASE("A stale copy of the store replays a refresh token and an interactive flow signs in again",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(short_tokens());
    temp_dir dir;
    auto user = make_user(0);
    auto second_user = make_user(0);
    file_flow<TestType> original(server.public_client(), observed_adapter<TestType>(server, user), {},
                                 devflow::file_store(dir.path() / "original"), {}, user_browser{user});
    auto interactive = server.public_client();
    interactive.session_end = devflow::on_session_end::interactive;
    file_flow<TestType> copy(interactive, observed_adapter<TestType>(server, second_user), {},
                             devflow::file_store(dir.path() / "copy"), {}, user_browser{second_user});
    auto copy_out = capture_output(copy);
    auto original_out = capture_output(original);

    const devflow::token_set tokens = original.login();
    INFO("simulated user: " << user->wait().output);
    const auto record = original.store().load(original.store_key());
    REQUIRE(record.has_value());
    copy.store().save(copy.store_key(), *record);

    sleep_until_stale(tokens);
    (void)original.authorization_header();  // rotates the refresh token
    // The copy's replay ends the session (invalid_grant); on_session_end::
    // interactive falls back to the device flow, and the user approves again.
    const std::string header = copy.authorization_header();
    INFO("second simulated user: " << second_user->wait().output);
    CHECK(second_user->visits() == 1);
    CHECK(copy_out->prompt_count() == 1);
    CHECK(get_userinfo<TestType>(server, header).status == 200);
    const auto fresh = copy.stored_tokens();
    REQUIRE(fresh.has_value());
    const bool new_grant = !(fresh->refresh_token == tokens.refresh_token);
    CHECK(new_grant);

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"device_authorizations_issued"}) == 2);
    CHECK(count_at(stats, {"refresh_requests"}) == 2);
    CHECK(count_at(stats, {"token_errors", "invalid_grant"}) == 1);
    CHECK(count_at(stats, {"token_successes", "urn:ietf:params:oauth:grant-type:device_code"}) == 2);
}

TEMPLATE_TEST_CASE("Logout revokes the grant so the old tokens no longer work at the server",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = make_user(0);
    devflow::device_flow<observed_http<TestType>, devflow::nlohmann_json, devflow::memory_store,
                         devflow::system_clock, user_browser>
        flow(server.public_client(), observed_adapter<TestType>(server, user), {}, {}, {}, user_browser{user});
    auto out = capture_output(flow);

    const devflow::token_set tokens = flow.login();
    INFO("simulated user: " << user->wait().output);
    const std::string header = flow.authorization_header();
    REQUIRE(get_userinfo<TestType>(server, header).status == 200);

    CHECK(flow.logout());
    CHECK_FALSE(flow.stored_tokens().has_value());
    const auto revocations = flow.http().journal().of(exchange_kind::revocation);
    REQUIRE(revocations.size() == 2);  // RFC 7009 §2.1: refresh token, then access token
    CHECK(revocations[0].status == 200);
    CHECK(revocations[1].status == 200);

    // Raw requests through the same transport: the old refresh token is dead...
    const raw_answer replay = raw_refresh<TestType>(server, tokens.refresh_token);
    CHECK(replay.status == 400);
    CHECK(replay.error() == "invalid_grant");
    // ...and so is the old access token.
    CHECK(get_userinfo<TestType>(server, header).status == 401);

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"revocation_requests"}) == 2);
    CHECK(count_at(stats, {"revocations"}) == 2);
    CHECK(count_at(stats, {"grants_revoked"}) >= 1);
    CHECK(leak_free(out->all_text(), secrets_of(tokens)));
}
