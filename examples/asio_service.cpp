// An Asio service that signs in without blocking its event loop
// (docs/async.md): while the user approves in a browser, the same
// io_context keeps serving its other work (here a heartbeat timer); once
// signed in, it calls the realm's userinfo endpoint with an authorized
// request and keeps the session alive until Ctrl-C.
//
//   devflow_example_asio_service https://sso.example.org my-realm my-cli
//
// Ctrl-C cancels whatever is running through Asio's cancellation slots: a
// sign-in stops polling at once (nothing more is sent), a keep-alive ends.
#include <devflow/adapters/asio.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/discovery.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

namespace asio = boost::asio;

namespace {

// [asio-service]
using flow_type = devflow::asio_flow<devflow::nlohmann_json>;  // file_store, system_browser

/// The service: sign in, call the API once, then keep the session alive.
asio::awaitable<void> serve(flow_type& flow, std::string userinfo) {
    const devflow::token_set tokens = co_await flow.async_login(asio::use_awaitable);
    std::printf("signed in (%s)\n", tokens.refresh_token.empty() ? "no refresh token" : "refreshable");

    devflow::http_request me;
    me.method = devflow::http_method::get;
    me.url = userinfo;
    // The token goes only to the origin (scheme, host, port) of the URL named
    // first, here the issuer's; an RFC 6750 invalid_token answer gets one
    // refresh and one retry.
    const devflow::http_response answer =
        co_await flow.async_send_authorized(flow.config().issuer, me, asio::use_awaitable);
    std::printf("userinfo: HTTP %d\n", answer.status);

    co_await flow.async_keep_alive(asio::use_awaitable);  // until Ctrl-C or the session's end
}

/// Other work of the same loop, to show it is never blocked.
asio::awaitable<void> heartbeat(asio::steady_timer& timer) {
    for (int beat = 1;; ++beat) {
        timer.expires_after(std::chrono::seconds{10});
        co_await timer.async_wait(asio::use_awaitable);
        std::fprintf(stderr, "heartbeat %d\n", beat);
    }
}
// [asio-service]

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s BASE_URL REALM CLIENT_ID\n", argv[0]);
        return 2;
    }
    try {
        const devflow::client_config cfg =
            devflow::keycloak_config(argv[1], argv[2], argv[3], {"openid", "profile"});
        asio::io_context io;
        flow_type flow{io.get_executor(), cfg};

        asio::cancellation_signal stop;  // Ctrl-C emits it
        asio::steady_timer beat_timer{io};
        asio::signal_set signals{io, SIGINT, SIGTERM};
        signals.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            stop.emit(asio::cancellation_type::terminal);
            beat_timer.cancel();
        });

        int status = 0;
        asio::co_spawn(io, serve(flow, cfg.issuer + "/protocol/openid-connect/userinfo"),
                       asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr failure) {
                           if (failure) {
                               try {
                                   std::rethrow_exception(failure);
                               } catch (const devflow::error& e) {
                                   std::fprintf(stderr, "devflow: %s\n", e.what());
                                   status = e.code() == devflow::errc::cancelled ? 130 : 1;
                               }
                           }
                           signals.cancel();
                           beat_timer.cancel();
                       }));
        asio::co_spawn(io, heartbeat(beat_timer), [](std::exception_ptr) {});
        io.run();
        return status;
    } catch (const devflow::error& e) {
        std::fprintf(stderr, "devflow: %s\n", e.what());
        return 1;
    }
}
