// The Asio adapter against the real local OpenID provider (docs/async.md): a
// login with a coroutine, 100 coroutines on one thread asking for a header
// across a token expiry (one refresh request), a cancellation in the middle
// of polling (no request after it), TLS refused without the CA, and an
// authorized request answered by one refresh after the token was revoked.
#include "catch.hpp"

#include "support/provider.hpp"
#include "support/scenario.hpp"
#include "support/simulated_user.hpp"
#include "support/test_certificate.hpp"

#include <devflow/adapters/asio.hpp>
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/memory_store.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>

namespace {

using namespace devflow_test;
namespace asio = boost::asio;
using flow_type = devflow::asio_flow<devflow::nlohmann_json, devflow::memory_store, user_browser>;

/// Options with short timeouts, trusting `ca_file` when given.
devflow::asio_http_options transport_options(const std::string& ca_file = {}) {
    devflow::asio_http_options o;
    o.connect_timeout = std::chrono::seconds{5};
    o.total_timeout = std::chrono::seconds{15};
    o.ca_file = ca_file;
    return o;
}

/// Runs `work` as a coroutine on `io` until it finishes; rethrows its exception.
template <class Work>
void run(asio::io_context& io, Work work) {
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(work), [&](std::exception_ptr e) { failure = e; });
    io.run();
    io.restart();
    if (failure) std::rethrow_exception(failure);
}

}  // namespace

TEST_CASE("The Asio flow signs in with a coroutine and its header is accepted by the provider",
          "[asio][provider]") {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = std::make_shared<simulated_user>(user_options{});
    asio::io_context io;
    flow_type flow(io.get_executor(), server.public_client(), transport_options(),
                   devflow::nlohmann_json{}, devflow::memory_store{}, user_browser{user});
    int prompts = 0;
    flow.on_prompt([&](const devflow::prompt_info&) { ++prompts; });
    std::string header;
    run(io, [&]() -> asio::awaitable<void> {
        const devflow::token_set t = co_await flow.async_login(asio::use_awaitable);
        CHECK_FALSE(t.access_token.empty());
        header = co_await flow.async_authorization_header(asio::use_awaitable);
    });
    INFO("simulated user: " << user->wait().output);
    CHECK(prompts == 1);
    CHECK(get_userinfo<devflow::curl_http>(server, header).status == 200);
    // A future works as a completion token too.
    auto again = flow.async_authorization_header(asio::use_future);
    io.run();
    CHECK(again.get() == header);
}

TEST_CASE("100 coroutines on one thread asking for a header across a token expiry share one "
          "refresh (RFC 6749 §6)",
          "[asio][provider]") {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}, {"DEVFLOW_ACCESS_TOKEN_TTL", "4"}}));
    auto user = std::make_shared<simulated_user>(user_options{});
    asio::io_context io;
    flow_type flow(io.get_executor(), server.public_client(), transport_options(),
                   devflow::nlohmann_json{}, devflow::memory_store{}, user_browser{user});
    flow.on_prompt([](const devflow::prompt_info&) {});
    std::string before;
    run(io, [&]() -> asio::awaitable<void> {
        co_await flow.async_login(asio::use_awaitable);
        before = co_await flow.async_authorization_header(asio::use_awaitable);
    });
    (void)user->wait();
    // 4 s tokens are refreshed 2 s before expiry (the margin is capped at half
    // the life), and they count from the send less a second: wait past that.
    std::this_thread::sleep_for(std::chrono::milliseconds{2200});
    const auto refreshes_before = server.stat({"refresh_requests"});
    std::vector<std::string> headers(100);
    for (std::size_t i = 0; i < headers.size(); ++i)
        asio::co_spawn(io, [&, i]() -> asio::awaitable<void> {
            headers[i] = co_await flow.async_authorization_header(asio::use_awaitable);
        }, asio::detached);
    io.run();  // one thread
    io.restart();
    CHECK(server.stat({"refresh_requests"}) - refreshes_before == 1);
    const std::set<std::string> distinct(headers.begin(), headers.end());
    CHECK(distinct.size() == 1);
    CHECK(*distinct.begin() != before);
    CHECK(get_userinfo<devflow::curl_http>(server, *distinct.begin()).status == 200);
}

TEST_CASE("A cancellation in the middle of polling ends the Asio login with no request after it",
          "[asio][provider]") {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    user_options walks_away;
    walks_away.after_polls = -1;
    auto user = std::make_shared<simulated_user>(walks_away);
    asio::io_context io;
    flow_type flow(io.get_executor(), server.public_client(), transport_options(),
                   devflow::nlohmann_json{}, devflow::memory_store{}, user_browser{user});
    flow.on_prompt([](const devflow::prompt_info&) {});
    asio::cancellation_signal cancel;
    std::exception_ptr outcome;
    bool finished = false;
    flow.async_login(asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, devflow::token_set) {
        outcome = e;
        finished = true;
    }));
    // Let it poll a few times (interval 1 s), then cancel from the loop itself.
    asio::steady_timer later(io, std::chrono::milliseconds{3500});
    std::int64_t polls_at_cancel = -1;
    later.async_wait([&](boost::system::error_code) {
        cancel.emit(asio::cancellation_type::terminal);
    });
    io.run();
    io.restart();
    REQUIRE(finished);
    polls_at_cancel = server.stat({"token_requests", "urn:ietf:params:oauth:grant-type:device_code"});
    CHECK(polls_at_cancel >= 2);
    try {
        std::rethrow_exception(outcome);
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::cancelled);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2500});
    CHECK(server.stat({"token_requests", "urn:ietf:params:oauth:grant-type:device_code"}) == polls_at_cancel);
}

TEST_CASE("The Asio transport refuses a provider's certificate without its CA and trusts it with it",
          "[asio][provider]") {
    const test_certificate cert("IP:127.0.0.1");
    provider_settings s;
    s.env = {{"DEVFLOW_INTERVAL", "1"}};
    s.tls_cert = cert.cert_file();
    s.tls_key = cert.key_file();
    provider server(s);
    user_options o;
    o.ca_file = cert.cert_file();
    {
        auto user = std::make_shared<simulated_user>(o);
        asio::io_context io;
        flow_type flow(io.get_executor(), server.public_client(), transport_options(),
                       devflow::nlohmann_json{}, devflow::memory_store{}, user_browser{user});
        try {
            run(io, [&]() -> asio::awaitable<void> { co_await flow.async_login(asio::use_awaitable); });
            FAIL("signed in over TLS without trusting the certificate");
        } catch (const devflow::error& e) {
            CHECK(e.code() == devflow::errc::transport_failed);
        }
        CHECK(user->visits() == 0);
        CHECK(server.stat({"device_authorization_requests"}) == 0);
    }
    auto user = std::make_shared<simulated_user>(o);
    asio::io_context io;
    flow_type flow(io.get_executor(), server.public_client(), transport_options(cert.cert_file()),
                   devflow::nlohmann_json{}, devflow::memory_store{}, user_browser{user});
    flow.on_prompt([](const devflow::prompt_info&) {});
    run(io, [&]() -> asio::awaitable<void> {
        const auto t = co_await flow.async_login(asio::use_awaitable);
        CHECK_FALSE(t.access_token.empty());
    });
    (void)user->wait();
}

TEST_CASE("An Asio authorized request to userinfo with a revoked token gets one refresh and one "
          "retry (RFC 6750 §3.1)",
          "[asio][provider]") {
    provider server(with_env({{"DEVFLOW_INTERVAL", "1"}}));
    auto user = std::make_shared<simulated_user>(user_options{});
    asio::io_context io;
    flow_type flow(io.get_executor(), server.public_client(), transport_options(),
                   devflow::nlohmann_json{}, devflow::memory_store{}, user_browser{user});
    flow.on_prompt([](const devflow::prompt_info&) {});
    devflow::token_set t;
    run(io, [&]() -> asio::awaitable<void> { t = co_await flow.async_login(asio::use_awaitable); });
    (void)user->wait();
    // The access token alone is destroyed at the provider: the session lives on.
    REQUIRE(server.drop_access_token(t.access_token));
    REQUIRE(get_userinfo<devflow::curl_http>(server, "Bearer " + t.access_token.reveal()).status == 401);
    const auto refreshes_before = server.stat({"refresh_requests"});
    devflow::http_request me;
    me.method = devflow::http_method::get;
    me.url = server.userinfo_endpoint();
    const auto origin = *devflow::detail::origin_of(me.url);
    devflow::http_response answer;
    run(io, [&]() -> asio::awaitable<void> {
        answer = co_await flow.async_send_authorized(origin, me, asio::use_awaitable);
    });
    CHECK(answer.status == 200);
    CHECK(server.stat({"refresh_requests"}) - refreshes_before == 1);
}
