// The device flow end to end against the real OpenID provider (oidc-provider
// on 127.0.0.1, tests/integration/server), through both shipped transports,
// with the simulated user approving or denying on the provider's own pages.
// Every case starts its own provider with the settings it needs.
#include "catch.hpp"
#if defined(DEVFLOW_CATCH_V3)
#include <catch2/catch_template_test_macros.hpp>
#endif

#include "support/provider.hpp"
#include "support/scenario.hpp"
#include "support/simulated_user.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace devflow_test;

/// A flow over an observed shipped transport, the nlohmann_json codec, a
/// memory store and the simulated user's browser.
template <class Http, class Clock = devflow::system_clock, class Browser = user_browser>
using flow_of = devflow::device_flow<observed_http<Http>, devflow::nlohmann_json, devflow::memory_store,
                                     Clock, Browser>;

constexpr const char* device_grant = "urn:ietf:params:oauth:grant-type:device_code";

/// Seconds between two steady times.
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::shared_ptr<simulated_user> make_user(int after_polls, std::string name = "alice", bool deny = false) {
    user_options o;
    o.name = std::move(name);
    o.deny = deny;
    o.after_polls = after_polls;
    return std::make_shared<simulated_user>(o);
}

}  // namespace

TEMPLATE_TEST_CASE("A user who approves after a few polls signs the client in through the real provider",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = make_user(2);
    flow_of<TestType> flow(server.public_client(), observed_adapter<TestType>(server, user), {}, {}, {},
                           user_browser{user});
    auto out = capture_output(flow);

    const devflow::token_set tokens = flow.login();
    const user_outcome visit = user->wait();
    INFO("simulated user: " << visit.output);
    REQUIRE(visit.exit_status == 0);
    CHECK(visit.output.find("approved: user code") != std::string::npos);

    CHECK(tokens.token_type == "Bearer");
    CHECK_FALSE(tokens.access_token.empty());
    CHECK_FALSE(tokens.refresh_token.empty());
    CHECK_FALSE(tokens.id_token.empty());  // the openid scope
    REQUIRE(tokens.expires_at.has_value());
    CHECK(*tokens.expires_at > std::chrono::system_clock::now() + 3000s);  // the default 3600 s

    // RFC 8628 §3.3.1: the browser got verification_uri_complete on the provider.
    const auto opened = user->opened();
    REQUIRE(opened.size() == 1);
    CHECK(opened[0].rfind(server.verification_uri() + "?user_code=", 0) == 0);
    REQUIRE(out->prompt_count() == 1);
    const devflow::prompt_info prompt = out->last_prompt();
    CHECK(prompt.host == "127.0.0.1");
    CHECK(prompt.browser_opened);
    CHECK(visit.output.find(prompt.user_code) != std::string::npos);

    // The server saw: one device authorization, some pending polls, one success.
    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"device_authorizations_issued"}) == 1);
    const auto pending = count_at(stats, {"token_errors", "authorization_pending"});
    CHECK(pending >= 2);
    CHECK(count_at(stats, {"token_successes", device_grant}) == 1);
    CHECK(count_at(stats, {"device_code_polls"}) == pending + 1);
    CHECK(count_at(stats, {"slow_down"}) == 0);
    // RFC 8628 §3.5: polling stopped once tokens arrived (a poll after success
    // would have revoked the grant).
    CHECK(count_at(stats, {"grants_revoked"}) == 0);
    CHECK(count_at(stats, {"client_auth", "none"}) == count_at(stats, {"device_authorization_requests"}) +
                                                          count_at(stats, {"device_code_polls"}));
    CHECK(flow.http().journal().of(exchange_kind::device_code_poll).size() ==
          static_cast<std::size_t>(pending + 1));

    const auto stored = flow.stored_tokens();
    REQUIRE(stored.has_value());
    const bool stored_same = stored->access_token == tokens.access_token;
    CHECK(stored_same);
    // docs/design.md §3: no token or device code in the prompt or the log.
    auto secrets = secrets_of(tokens);
    const devflow::secret device_code = flow.http().journal().last_device_code;
    secrets.push_back(&device_code);
    CHECK(leak_free(out->all_text(), secrets));
}

TEMPLATE_TEST_CASE("A client that waits the interval after every answer is never slowed down",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    // The server also times the first poll from the device authorization answer.
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}, {"DEVFLOW_STRICT_FIRST_POLL", "1"}}));
    auto user = make_user(3);
    flow_of<TestType> flow(server.public_client(), observed_adapter<TestType>(server, user), {}, {}, {},
                           user_browser{user});
    auto out = capture_output(flow);

    flow.login();
    INFO("simulated user: " << user->wait().output);

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"slow_down"}) == 0);
    CHECK(count_at(stats, {"token_errors", "slow_down"}) == 0);
    CHECK(count_at(stats, {"token_errors", "authorization_pending"}) >= 3);
    CHECK(count_at(stats, {"token_successes", device_grant}) == 1);

    // RFC 8628 §3.4: every wait is measured from the previous answer.
    const auto& journal = flow.http().journal();
    const auto authorization = journal.of(exchange_kind::device_authorization);
    const auto polls = journal.of(exchange_kind::device_code_poll);
    REQUIRE(authorization.size() == 1);
    REQUIRE(polls.size() >= 4);
    CHECK(seconds_between(authorization[0].answered_at, polls[0].sent_at) >= 1.0);
    for (std::size_t i = 1; i < polls.size(); ++i) {
        INFO("poll " << i);
        CHECK(seconds_between(polls[i - 1].answered_at, polls[i].sent_at) >= 1.0);
    }
}

TEMPLATE_TEST_CASE("A client whose clock runs fast polls early once then slows down by 5 s and succeeds",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    // The user approves right after the slow_down answer (the second poll).
    auto user = make_user(2);
    devflow::client_config cfg = server.public_client();
    cfg.poll_margin = 0ms;  // nothing hides the skew
    // A monotonic clock 20 % fast: a 1 s wait lasts 0.83 s of real time.
    flow_of<TestType, skewed_clock> flow(cfg, observed_adapter<TestType>(server, user), {}, {},
                                         skewed_clock{1.2}, user_browser{user});
    auto out = capture_output(flow);

    const devflow::token_set tokens = flow.login();
    INFO("simulated user: " << user->wait().output);
    CHECK_FALSE(tokens.access_token.empty());

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"slow_down"}) == 1);
    CHECK(count_at(stats, {"token_successes", device_grant}) == 1);

    const auto polls = flow.http().journal().of(exchange_kind::device_code_poll);
    REQUIRE(polls.size() >= 3);
    CHECK(polls[0].error == "authorization_pending");  // the first poll is free
    CHECK(polls[1].error == "slow_down");               // then too early in real time
    CHECK(seconds_between(polls[0].answered_at, polls[1].sent_at) < 1.0);
    // RFC 8628 §3.5: slow_down raised the interval to 6 s for good; the fast
    // clock's waits, widened by the margin it adds after slow_down, stay
    // above it in real time, so the server never slowed it down again.
    for (std::size_t i = 2; i < polls.size(); ++i) {
        INFO("poll " << i);
        CHECK(seconds_between(polls[i - 1].answered_at, polls[i].sent_at) >= 6.0);
        CHECK(polls[i].error != "slow_down");
    }
    CHECK(out->logged("polling every 6 s"));
}

TEMPLATE_TEST_CASE("A user who denies the request ends the flow with access_denied", "[provider]",
                   devflow::curl_http, devflow::httplib_http) {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = make_user(0, "mallory", /*deny=*/true);
    flow_of<TestType> flow(server.public_client(), observed_adapter<TestType>(server, user), {}, {}, {},
                           user_browser{user});
    auto out = capture_output(flow);

    const auto e = error_from([&] { flow.login(); });
    REQUIRE(e.has_value());
    INFO("what(): " << e->what());
    CHECK(e->code() == devflow::errc::access_denied);
    CHECK(e->server_error() == "access_denied");  // RFC 8628 §3.5, carried verbatim
    CHECK(e->http_status() == 400);
    const user_outcome visit = user->wait();
    INFO("simulated user: " << visit.output);
    CHECK(visit.exit_status == 0);
    CHECK(visit.output.find("denied: user code") != std::string::npos);

    CHECK_FALSE(flow.stored_tokens().has_value());
    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"token_errors", "access_denied"}) == 1);
    CHECK(count_at(stats, {"token_successes", device_grant}) == 0);
    // The flow stopped at access_denied: the last poll is the one that got it.
    const auto polls = flow.http().journal().of(exchange_kind::device_code_poll);
    REQUIRE_FALSE(polls.empty());
    CHECK(polls.back().error == "access_denied");
}

TEMPLATE_TEST_CASE("A code nobody approves ends with expired_token and no poll goes past its deadline",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}, {"DEVFLOW_DEVICE_CODE_TTL", "3"}}));
    devflow::device_flow<observed_http<TestType>, devflow::nlohmann_json, devflow::memory_store,
                         devflow::system_clock, devflow::no_browser>
        flow(server.public_client(), observed_http<TestType>(make_adapter<TestType>()));
    auto out = capture_output(flow);

    const auto e = error_from([&] { flow.login(); });
    REQUIRE(e.has_value());
    INFO("what(): " << e->what());
    CHECK(e->code() == devflow::errc::expired_token);
    REQUIRE(out->prompt_count() == 1);
    CHECK_FALSE(out->last_prompt().browser_opened);  // no_browser: the user must type the URL
    CHECK(out->last_prompt().expires_in == 3s);

    // RFC 8628 §3.5: no poll at or past the deadline, counted from the answer.
    const auto& journal = flow.http().journal();
    const auto authorization = journal.of(exchange_kind::device_authorization);
    const auto polls = journal.of(exchange_kind::device_code_poll);
    REQUIRE(authorization.size() == 1);
    REQUIRE_FALSE(polls.empty());
    for (std::size_t i = 0; i < polls.size(); ++i) {
        INFO("poll " << i);
        CHECK(seconds_between(authorization[0].answered_at, polls[i].sent_at) < 3.0);
        // oidc-provider counts lifetimes in whole seconds from the second the
        // code was issued, so its code may die up to 1 s before expires_in
        // says: then the last poll is refused with expired_token (RFC 8628
        // §3.5), which ends the flow with the same error.
        if (i + 1 < polls.size()) CHECK(polls[i].error == "authorization_pending");
        else CHECK((polls[i].error == "authorization_pending" || polls[i].error == "expired_token"));
    }

    // The server agrees: once its code has expired, a poll answers expired_token.
    std::this_thread::sleep_until(authorization[0].answered_at + 3500ms);
    const raw_answer late = post_token_form<TestType>(
        server, {{"grant_type", device_grant}, {"device_code", journal.last_device_code.reveal()}});
    CHECK(late.status == 400);
    CHECK(late.error() == "expired_token");
    CHECK(leak_free(out->all_text(), {&journal.last_device_code}));
}

TEMPLATE_TEST_CASE("The confidential client authenticates with client_secret_basic and nothing else",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    const devflow::secret client_secret{"integration-secret-4f1c9e"};
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}, {"DEVFLOW_CONFIDENTIAL_SECRET", client_secret.reveal()}}));

    {
        // A wrong secret is refused at the first request; the secret is not echoed.
        const devflow::secret wrong{"wrong-secret-77aa01"};
        devflow::device_flow<observed_http<TestType>, devflow::nlohmann_json, devflow::memory_store,
                             devflow::system_clock, devflow::no_browser>
            flow(server.confidential_client(wrong), observed_http<TestType>(make_adapter<TestType>()));
        auto out = capture_output(flow);
        const auto e = error_from([&] { flow.login(); });
        REQUIRE(e.has_value());
        INFO("what(): " << e->what());
        CHECK(e->code() == devflow::errc::invalid_client);
        CHECK(e->http_status() == 401);
        CHECK(leak_free(e->what(), {&wrong}));
        CHECK(out->prompt_count() == 0);
    }

    auto user = make_user(0);
    flow_of<TestType> flow(server.confidential_client(client_secret), observed_adapter<TestType>(server, user),
                           {}, {}, {}, user_browser{user});
    auto out = capture_output(flow);
    const devflow::token_set tokens = flow.login();
    INFO("simulated user: " << user->wait().output);
    CHECK_FALSE(tokens.refresh_token.empty());
    CHECK(get_userinfo<TestType>(server, flow.authorization_header()).status == 200);
    CHECK(flow.logout());  // RFC 7009 §2.1: revocation authenticates the client too

    // RFC 6749 §2.3.1: Basic on every request, never the secret in the body,
    // never Basic plus a body client_id.
    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    const auto requests = count_at(stats, {"device_authorization_requests"}) +
                          count_at(stats, {"device_code_polls"}) +
                          count_at(stats, {"revocation_requests"});
    CHECK(count_at(stats, {"revocation_requests"}) == 2);
    CHECK(count_at(stats, {"client_auth", "client_secret_basic"}) == requests);
    CHECK(count_at(stats, {"client_auth", "none"}) == 0);
    CHECK(count_at(stats, {"client_auth", "client_secret_post"}) == 0);
    CHECK(count_at(stats, {"client_auth", "basic_with_body_client_id"}) == 0);
    CHECK(count_at(stats, {"token_errors", "invalid_client"}) == 0);
    CHECK(count_at(stats, {"token_successes", device_grant}) == 1);
    CHECK(leak_free(out->all_text(), {&client_secret, &tokens.access_token, &tokens.refresh_token}));
}

TEMPLATE_TEST_CASE("Tokens from the device flow are accepted by the provider userinfo endpoint",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = make_user(0, "devflow-userinfo");
    auto cfg = server.public_client({"openid", "offline_access", "profile", "email"});
    cfg.session_end = devflow::on_session_end::interactive;
    flow_of<TestType> flow(cfg, observed_adapter<TestType>(server, user), {}, {}, {}, user_browser{user});
    auto out = capture_output(flow);

    // No tokens yet: with session_end = interactive, authorization_header()
    // runs the device flow itself.
    const std::string header = flow.authorization_header();
    INFO("simulated user: " << user->wait().output);
    CHECK(header.rfind("Bearer ", 0) == 0);
    CHECK(out->prompt_count() == 1);

    const raw_answer me = get_userinfo<TestType>(server, header);
    INFO("userinfo status " << me.status);
    REQUIRE(me.status == 200);
    REQUIRE(me.body.is_object());
    CHECK(me.body.value("sub", "") == "devflow-userinfo");
    CHECK(me.body.value("email", "") == "devflow-userinfo@devflow.test");

    // The check is real: no token or a forged one is refused.
    CHECK(get_userinfo<TestType>(server, "").status == 401);
    CHECK(get_userinfo<TestType>(server, "Bearer forged-token-0000000000000000000000000000").status == 401);
    CHECK(server.stat({"userinfo_requests"}) == 3);
}
