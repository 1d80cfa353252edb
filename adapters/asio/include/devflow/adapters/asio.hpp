// devflow — the Asio adapter (docs/async.md): an asynchronous HTTPS
// transport on Boost.Beast (devflow::asio_http) and an asynchronous driver of
// session_machine on an io_context (devflow::asio_flow): login, authorization
// header, refresh, authorized requests, keep-alive and logout as Asio
// asynchronous operations, with any completion token — callbacks,
// asio::use_future, C++20 coroutines with asio::use_awaitable — and
// cancellation through Asio's per-operation cancellation slots.
//
//     boost::asio::io_context io;
//     devflow::asio_flow<devflow::nlohmann_json> flow{io.get_executor(), config};
//     boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
//         co_await flow.async_login(boost::asio::use_awaitable);
//         std::string header = co_await flow.async_authorization_header(boost::asio::use_awaitable);
//     }, boost::asio::detached);
//     io.run();
//
// Needs Boost 1.81 or later (Debian: libboost1.81-dev; 1.74 lacks
// per-operation cancellation) and OpenSSL; the devflow::asio CMake target
// brings both. TLS verification is always on, as in the other transports.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/config.hpp>
#include <devflow/display.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/session_machine.hpp>
#include <devflow/system_browser.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>
#include <devflow/detail/bearer_challenge.hpp>
#include <devflow/detail/console.hpp>
#include <devflow/detail/published_secret.hpp>
#include <devflow/detail/refresh_policy.hpp>
#include <devflow/detail/store_steps.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/detail/wiping_allocator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#if BOOST_VERSION < 108100
#error "devflow::asio needs Boost 1.81 or later (per-operation cancellation)"
#endif

namespace devflow {

// ====================================================================== asio_http

/// Settings of devflow::asio_http: those every transport shares
/// (http_transport_options). A proxy is not supported by this adapter (a
/// non-empty `proxy` is invalid_config); connections are not reused.
struct asio_http_options : http_transport_options {
    asio_http_options() { user_agent += " Boost.Beast/" + std::to_string(BOOST_BEAST_VERSION); }
};

/// An asynchronous devflow transport on Boost.Beast: one request at a time
/// per call, over a fresh connection, https with TLS peer and host
/// verification always on (the system's CAs, or `ca_file`/`ca_dir`), no
/// redirect followed, connect and total timeouts, the body and header caps —
/// every failure an http_response with a transport_error, never an
/// exception. Cancellation (a bound cancellation slot) ends the exchange at
/// once with transport_error::other, "cancelled".
class asio_http {
public:
    /// The settings type.
    using options = asio_http_options;

    /// A transport whose operations run on `executor`.
    /// @throws devflow::error invalid_config for bad settings (a proxy, a
    ///         timeout or cap that is not positive). A CA file or directory
    ///         that cannot be loaded fails each https exchange instead
    ///         (transport_error::tls), as in the other transports.
    explicit asio_http(boost::asio::any_io_executor executor, options settings = {});

    /// Sends `request`; completes with void(std::exception_ptr, http_response)
    /// (the exception only for a failure of the program itself, e.g. out of memory).
    template <class CompletionToken>
    auto async_send(http_request request, CompletionToken&& token) {
        return boost::asio::co_spawn(executor_, send(std::move(request)),
                                     std::forward<CompletionToken>(token));
    }

    /// The exchange as an awaitable, for coroutines on the same executor.
    boost::asio::awaitable<http_response> send(http_request request);

    /// The settings this transport was built with.
    [[nodiscard]] const options& settings() const noexcept { return settings_; }
    /// The executor operations run on.
    [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept { return executor_; }

private:
    template <class Stream>
    boost::asio::awaitable<http_response> exchange(Stream& stream, const http_request& request,
                                                   const http_url& url);

    boost::asio::any_io_executor executor_;
    options settings_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::string ca_problem_;  // why the CAs could not be loaded, if they could not
};

// ====================================================================== asio_flow

/// The flow of device_flow, asynchronous: a driver of session_machine on an
/// Asio executor. Operations of one flow run one at a time on its strand;
/// callers that arrive meanwhile wait (cancellably) and then take the result
/// (many coroutines asking for a header during one refresh share it: one
/// refresh request). Safe to call from any thread.
///
/// `Json` is a devflow::json_codec, `Storage` a devflow::token_store (its
/// lock, when it has one, is taken with try_lock and a timer, never blocking
/// the executor), `Browser` a devflow::browser.
template <class Json, class Storage = file_store, class Browser = system_browser>
class asio_flow {
    static_assert(json_codec<Json>, "Json must model devflow::json_codec (docs/policies.md#json)");
    static_assert(token_store<Storage>, "Storage must model devflow::token_store (docs/policies.md#storage)");
    static_assert(browser<Browser>, "Browser must model devflow::browser (docs/policies.md#browser)");

public:
    using executor_type = boost::asio::strand<boost::asio::any_io_executor>;
    using prompt_handler = std::function<void(const prompt_info&)>;
    using log_handler = std::function<void(log_level, std::string_view)>;

    /// A flow for `config` on `executor` (it makes a strand of its own).
    /// @throws devflow::error invalid_config or insecure_endpoint, as device_flow.
    asio_flow(boost::asio::any_io_executor executor, client_config config,
              asio_http_options http = {}, Json json = Json{}, Storage store = Storage{},
              Browser browser = Browser{});

    asio_flow(const asio_flow&) = delete;
    asio_flow& operator=(const asio_flow&) = delete;

    /// device_flow::login(), asynchronously: void(std::exception_ptr, token_set).
    template <class CompletionToken>
    auto async_login(CompletionToken&& token) {
        return spawn(run_tokens(operation::sign_in), std::forward<CompletionToken>(token));
    }

    /// device_flow::authorization_header(), asynchronously:
    /// void(std::exception_ptr, std::string).
    template <class CompletionToken>
    auto async_authorization_header(CompletionToken&& token) {
        return spawn(header(), std::forward<CompletionToken>(token));
    }

    /// A new access token now (as after a 401 invalid_token for `refused`),
    /// asynchronously: void(std::exception_ptr, token_set). Single flight:
    /// when another caller already refreshed past `refused`, its token.
    template <class CompletionToken>
    auto async_refresh(secret refused, CompletionToken&& token) {
        return spawn(run_refresh(std::move(refused)), std::forward<CompletionToken>(token));
    }

    /// device_flow::send_authorized() through this flow's transport,
    /// asynchronously: void(std::exception_ptr, http_response).
    template <class CompletionToken>
    auto async_send_authorized(std::string origin, http_request request, CompletionToken&& token) {
        return spawn(authorized(std::move(origin), std::move(request)),
                     std::forward<CompletionToken>(token));
    }

    /// device_flow::keep_alive(), asynchronously: completes (void(std::exception_ptr))
    /// when the session ends or the operation is cancelled.
    template <class CompletionToken>
    auto async_keep_alive(CompletionToken&& token) {
        return spawn(keep_alive(), std::forward<CompletionToken>(token));
    }

    /// device_flow::logout(), asynchronously: void(std::exception_ptr, bool).
    template <class CompletionToken>
    auto async_logout(CompletionToken&& token) {
        return spawn(run_logout(), std::forward<CompletionToken>(token));
    }

    /// The header from memory when it is fresh, without waiting (the hot path).
    [[nodiscard]] std::optional<std::string> cached_authorization_header() const;

    /// Replaces the prompt callback (called on the flow's strand).
    void on_prompt(prompt_handler handler) { prompt_ = std::move(handler); }
    /// Replaces the log callback (called on the flow's strand).
    void on_log(log_handler handler) { log_ = std::move(handler); }

    /// The configuration in use.
    [[nodiscard]] const client_config& config() const noexcept { return machine_.config(); }
    /// The token store key of this flow.
    [[nodiscard]] const std::string& store_key() const noexcept { return machine_.store_key(); }
    /// The flow's strand.
    [[nodiscard]] const executor_type& get_executor() const noexcept { return strand_; }
    /// The transport, store and browser.
    asio_http& http() noexcept { return http_; }
    Storage& store() noexcept { return store_; }
    Browser& browser() noexcept { return browser_; }

private:
    template <class Awaitable, class CompletionToken>
    auto spawn(Awaitable&& work, CompletionToken&& token) {
        return boost::asio::co_spawn(strand_, std::forward<Awaitable>(work),
                                     std::forward<CompletionToken>(token));
    }

    /// The one turn of machine_, given back when destroyed.
    class turn {
    public:
        explicit turn(asio_flow& flow) noexcept : flow_(&flow) {}
        turn(turn&& other) noexcept : flow_(std::exchange(other.flow_, nullptr)) {}
        turn& operator=(turn&&) = delete;
        ~turn() {
            if (flow_) flow_->release();
        }

    private:
        asio_flow* flow_;
    };

    static boost::asio::awaitable<bool> was_cancelled();
    boost::asio::awaitable<turn> acquire();
    void release() noexcept;
    boost::asio::awaitable<step> drive(step s);
    boost::asio::awaitable<step> finish(step first);
    boost::asio::awaitable<token_set> run_tokens(operation op);
    boost::asio::awaitable<token_set> run_refresh(secret refused);
    boost::asio::awaitable<std::string> header();
    boost::asio::awaitable<http_response> authorized(std::string origin, http_request request);
    boost::asio::awaitable<void> keep_alive();
    boost::asio::awaitable<bool> run_logout();
    stored_session read_store();
    bool write_store(const step& s);
    void sync_cache();
    void log(log_level level, std::string_view message) const;
    static instant now() { return {std::chrono::system_clock::now(), std::chrono::steady_clock::now()}; }

    executor_type strand_;
    session_machine machine_;
    asio_http http_;
    [[no_unique_address]] Json json_;
    [[no_unique_address]] Storage store_;
    [[no_unique_address]] Browser browser_;
    prompt_handler prompt_ = detail::default_prompt;
    log_handler log_ = detail::default_log;
    // One operation of machine_ at a time: a channel holding one token.
    boost::asio::experimental::channel<void(boost::system::error_code)> turn_;

    mutable std::shared_mutex cache_mutex_;
    std::optional<token_set> cache_;
    // The header ready to copy, published with cache_ and read without
    // cache_mutex_ (docs/performance.md).
    detail::published_secret header_;
};

// ====================================================================== implementation

namespace detail::asio_adapter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// Beast bodies, fields and buffers whose memory is wiped when freed.
using wiping_body = http::basic_string_body<char, std::char_traits<char>, wiping_allocator<char>>;
using wiping_fields = http::basic_fields<wiping_allocator<char>>;
using wiping_buffer = beast::basic_flat_buffer<wiping_allocator<char>>;

/// The lock a store's try_lock() gives, held in an optional (or nothing, for
/// a store without one).
template <class Storage>
struct store_lock {
    static constexpr bool lockable = false;
    struct type {
        void reset() noexcept {}
    };
};
template <class Storage>
    requires requires(Storage& s, std::string_view key) { s.try_lock(key); }
struct store_lock<Storage> {
    static constexpr bool lockable = true;
    using type = decltype(std::declval<Storage&>().try_lock(std::string_view{}));
};

/// True when the error says the operation was cancelled.
inline bool aborted(const boost::system::error_code& ec) {
    return ec == asio::error::operation_aborted;
}

/// The transport error for a failed step of the exchange.
inline transport_error classify(const boost::system::error_code& ec, transport_error otherwise) {
    if (ec == beast::error::timeout) return transport_error::timeout;
    if (ec == http::error::body_limit || ec == http::error::header_limit) return transport_error::too_large;
    if (ec.category() == asio::error::get_ssl_category()) return transport_error::tls;
    return otherwise;
}

/// The message for a failed step: what failed, where, and the system's
/// words — never a header value or a body.
inline std::string describe(std::string_view what, const http_url& url, const boost::system::error_code& ec) {
    return "asio_http: " + std::string(what) + " (" + url.host_and_port() + "): " +
           safe_text(ec.message(), 200);
}

}  // namespace detail::asio_adapter

inline asio_http::asio_http(boost::asio::any_io_executor executor, options settings)
    : executor_(std::move(executor)), settings_(std::move(settings)) {
    check_transport_options(settings_, "asio_http");
    if (!settings_.proxy.empty())
        detail::throw_error(errc::invalid_config, "asio_http: proxies are not supported");
    namespace ssl = boost::asio::ssl;
    tls_ = std::make_shared<ssl::context>(ssl::context::tls_client);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    // docs/design.md §3: peer and host verification always on.
    tls_->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (settings_.ca_file.empty() && settings_.ca_dir.empty()) tls_->set_default_verify_paths(ec);
    if (!settings_.ca_file.empty()) tls_->load_verify_file(settings_.ca_file, ec);
    if (!ec && !settings_.ca_dir.empty()) tls_->add_verify_path(settings_.ca_dir, ec);
    // As in the other transports, CAs that cannot be loaded fail every
    // exchange (transport_error::tls) rather than the constructor.
    if (ec) ca_problem_ = "asio_http: cannot load the CA certificates: " + safe_text(ec.message(), 200);
}

inline boost::asio::awaitable<http_response> asio_http::send(http_request request) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace impl = detail::asio_adapter;
    if (const char* problem = http_request_problem(request))
        co_return transport_failure(transport_error::other, std::string("asio_http: ") + problem);
    const http_url url = *split_http_url(request.url);
    if (url.scheme == "https" && !ca_problem_.empty()) co_return transport_failure(transport_error::tls, ca_problem_);
    co_await asio::this_coro::throw_if_cancelled(false);
    const auto executor = co_await asio::this_coro::executor;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + settings_.total_timeout;
    // Name resolution and the TCP connection share the connect timeout, as
    // libcurl's does.
    const auto connected_by =
        started + std::min<std::chrono::steady_clock::duration>(settings_.connect_timeout,
                                                                settings_.total_timeout);

    asio::ip::tcp::resolver resolver(executor);
    asio::steady_timer resolve_timer(executor);
    resolve_timer.expires_at(connected_by);
    using namespace asio::experimental::awaitable_operators;
    auto resolved = co_await (resolver.async_resolve(url.host, std::to_string(url.port),
                                                     asio::as_tuple(asio::use_awaitable)) ||
                              resolve_timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (resolved.index() == 1) {
        // The timer won: the resolution timed out, unless the timer itself was cancelled.
        const bool cancelled = impl::aborted(std::get<0>(std::get<1>(resolved)));
        co_return transport_failure(cancelled ? transport_error::other : transport_error::timeout,
                                    cancelled ? std::string("asio_http: cancelled")
                                              : "asio_http: resolving " + url.host + " timed out");
    }
    auto [resolve_error, endpoints] = std::move(std::get<0>(resolved));
    if (resolve_error)
        co_return transport_failure(impl::aborted(resolve_error) ? transport_error::other
                                                                 : transport_error::dns,
                                    impl::aborted(resolve_error)
                                        ? std::string("asio_http: cancelled")
                                        : "asio_http: could not resolve " + url.host);

    beast::tcp_stream tcp(executor);
    tcp.expires_at(connected_by);
    auto [connect_error, connected] =
        co_await tcp.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    (void)connected;
    if (connect_error)
        co_return transport_failure(
            impl::aborted(connect_error) ? transport_error::other
                                         : impl::classify(connect_error, transport_error::connect),
            impl::aborted(connect_error) ? std::string("asio_http: cancelled")
                                         : impl::describe("could not connect", url, connect_error));
    tcp.expires_at(deadline);

    if (url.scheme == "http") co_return co_await exchange(tcp, request, url);

    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), *tls_);
    // SNI for host names (not for address literals), and the host checked
    // against the certificate (RFC 6125), addresses included.
    if (!url.host.empty() && url.host.find_first_not_of("0123456789.") != std::string::npos &&
        url.host.find(':') == std::string::npos)
        SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str());
    tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
    auto [handshake_error] =
        co_await tls.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (handshake_error)
        co_return transport_failure(
            impl::aborted(handshake_error) ? transport_error::other
                                           : impl::classify(handshake_error, transport_error::tls),
            impl::aborted(handshake_error) ? std::string("asio_http: cancelled")
                                           : impl::describe("TLS handshake failed", url, handshake_error));
    http_response answer = co_await exchange(tls, request, url);
    co_return answer;
}

template <class Stream>
boost::asio::awaitable<http_response> asio_http::exchange(Stream& stream, const http_request& request,
                                                          const http_url& url) {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    namespace impl = detail::asio_adapter;

    http::request<impl::wiping_body, impl::wiping_fields> req{
        request.method == http_method::post ? http::verb::post : http::verb::get, url.target, 11};
    const bool default_port = (url.scheme == "https" && url.port == 443) || (url.scheme == "http" && url.port == 80);
    const std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req.set(http::field::host, default_port ? host : host + ":" + std::to_string(url.port));
    for (const auto& h : request.headers) req.set(h.name, h.value.reveal());
    if (!has_header(request.headers, "user-agent")) req.set(http::field::user_agent, settings_.user_agent);
    if (request.method == http_method::post) {
        req.body().assign(request.body.reveal().data(), request.body.size());
        req.prepare_payload();
    }
    auto [write_error, written] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    (void)written;
    if (write_error)
        co_return transport_failure(
            impl::aborted(write_error) ? transport_error::other
                                       : impl::classify(write_error, transport_error::connect),
            impl::aborted(write_error) ? std::string("asio_http: cancelled")
                                       : impl::describe("failed to send the request", url, write_error));

    impl::wiping_buffer buffer;
    std::optional<http::response_parser<impl::wiping_body, detail::wiping_allocator<char>>> parser;
    auto read_failure = [&](const boost::system::error_code& ec) {
        if (impl::aborted(ec)) return transport_failure(transport_error::other, "asio_http: cancelled");
        if (ec == http::error::body_limit)
            return too_large_failure("asio_http", response_cap::body, settings_);
        if (ec == http::error::header_limit)
            return too_large_failure("asio_http", response_cap::header_bytes, settings_);
        return transport_failure(impl::classify(ec, transport_error::connect),
                                 impl::describe("failed to read the answer", url, ec));
    };
    // Interim 1xx answers (100 Continue, 103 Early Hints) are read past: only
    // the final answer's header block is kept. Each block is held to the caps.
    std::size_t fields = 0;
    for (int block = 0;; ++block) {
        parser.emplace();
        parser->body_limit(settings_.max_body_bytes);
        parser->header_limit(
            static_cast<std::uint32_t>(std::min<std::size_t>(settings_.max_header_bytes, 0xFFFFFFFFu)));
        auto [header_error, header_bytes] =
            co_await http::async_read_header(stream, buffer, *parser, asio::as_tuple(asio::use_awaitable));
        (void)header_bytes;
        if (header_error) co_return read_failure(header_error);
        fields = 0;
        for (auto it = parser->get().begin(); it != parser->get().end(); ++it) ++fields;
        if (fields > settings_.max_header_count)
            co_return too_large_failure("asio_http", response_cap::header_count, settings_);
        const unsigned status = parser->get().result_int();
        if (status >= 200) break;
        if (status == 101 || block >= static_cast<int>(settings_.max_header_count))
            co_return transport_failure(transport_error::other,
                                        "asio_http: unsupported interim answer (status " +
                                            std::to_string(status) + ")");
    }
    auto [body_error, body_bytes] =
        co_await http::async_read(stream, buffer, *parser, asio::as_tuple(asio::use_awaitable));
    (void)body_bytes;
    if (body_error) co_return read_failure(body_error);

    http_response response;
    response.status = static_cast<int>(parser->get().result_int());
    response.headers.reserve(fields);
    for (const auto& field : parser->get())
        response.headers.push_back(response_header(
            std::string_view(field.name_string().data(), field.name_string().size()),
            std::string(field.value().data(), field.value().size())));
    const auto& body = parser->get().body();
    response.body = secret{std::string(body.data(), body.size())};
    co_return response;
}

// ---------------------------------------------------------------------- asio_flow

template <class Json, class Storage, class Browser>
asio_flow<Json, Storage, Browser>::asio_flow(boost::asio::any_io_executor executor, client_config config,
                                             asio_http_options http, Json json, Storage store,
                                             Browser browser)
    : strand_(boost::asio::make_strand(executor)),
      machine_(std::move(config)),
      http_(strand_, std::move(http)),
      json_(std::move(json)),
      store_(std::move(store)),
      browser_(std::move(browser)),
      turn_(strand_, 1) {
    turn_.try_send(boost::system::error_code{});  // the one turn, free
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<bool> asio_flow<Json, Storage, Browser>::was_cancelled() {
    namespace asio = boost::asio;
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<typename asio_flow<Json, Storage, Browser>::turn>
asio_flow<Json, Storage, Browser>::acquire() {
    namespace asio = boost::asio;
    auto [ec] = co_await turn_.async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec) detail::throw_error(errc::cancelled, "cancelled while waiting for another operation of this flow");
    co_return turn{*this};
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<step> asio_flow<Json, Storage, Browser>::finish(step first) {
    step s = co_await drive(std::move(first));
    sync_cache();
    if (s.what == step::action::failed) throw *s.failure;
    co_return s;
}

template <class Json, class Storage, class Browser>
void asio_flow<Json, Storage, Browser>::release() noexcept {
    turn_.try_send(boost::system::error_code{});
}

template <class Json, class Storage, class Browser>
std::optional<std::string> asio_flow<Json, Storage, Browser>::cached_authorization_header() const {
    std::string header;
    if (!header_.copy_if_fresh(std::chrono::system_clock::now(), header)) return std::nullopt;
    return header;
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<std::string> asio_flow<Json, Storage, Browser>::header() {
    if (auto cached = cached_authorization_header()) co_return std::move(*cached);
    const token_set t = co_await run_tokens(operation::get_tokens);
    co_return "Bearer " + t.access_token.reveal();
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<token_set> asio_flow<Json, Storage, Browser>::run_tokens(operation op) {
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    const turn held = co_await acquire();
    // Callers that waited find the result of the one before them (single flight).
    if (op == operation::get_tokens) {
        std::shared_lock lock(cache_mutex_);
        if (cache_ && detail::access_token_fresh(*cache_, std::chrono::system_clock::now(),
                                                 config().refresh_margin))
            co_return *cache_;
    }
    const step s = co_await finish(machine_.start(op, now()));
    co_return *s.tokens;
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<token_set> asio_flow<Json, Storage, Browser>::run_refresh(secret refused) {
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    const turn held = co_await acquire();
    const step s = co_await finish(machine_.start_refresh(refused, now()));
    co_return *s.tokens;
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<http_response> asio_flow<Json, Storage, Browser>::authorized(std::string origin,
                                                                                  http_request request) {
    detail::require_same_origin(origin, request.url, config().insecure_allow_http_for_non_loopback_hosts);
    auto attempt = [&](const std::string& header_value) {
        http_request r = request;
        std::erase_if(r.headers, [](const http_header& h) { return detail::ascii_lower(h.name) == "authorization"; });
        r.headers.push_back({"authorization", secret{header_value}});
        return http_.send(std::move(r));
    };
    const std::string first = co_await header();
    http_response answer = co_await attempt(first);
    // RFC 6750 §3.1: invalid_token — refreshed once (single flight), retried once.
    if (!detail::token_refused(answer)) co_return answer;
    const token_set fresh = co_await run_refresh(secret{first.substr(7)});
    log(log_level::info, "the resource server refused the access token (invalid_token); retrying "
                         "once with a new one");
    co_return co_await attempt("Bearer " + fresh.access_token.reveal());
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<void> asio_flow<Json, Storage, Browser>::keep_alive() {
    namespace asio = boost::asio;
    co_await asio::this_coro::throw_if_cancelled(false);
    asio::steady_timer timer(strand_);
    for (;;) {
        std::optional<std::chrono::system_clock::time_point> next;
        {
            const turn held = co_await acquire();
            const step s = co_await drive(machine_.start(operation::keep_alive, now()));
            sync_cache();
            if (s.what == step::action::failed) co_return;  // ended, or cancelled (logged)
            next = s.next_round;
        }
        const auto wall = std::chrono::system_clock::now();
        if (next && *next > wall) {
            timer.expires_after(std::chrono::ceil<std::chrono::steady_clock::duration>(*next - wall));
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;  // cancelled
        }
        if (co_await was_cancelled()) co_return;
    }
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<bool> asio_flow<Json, Storage, Browser>::run_logout() {
    const turn held = co_await acquire();
    const step s = co_await finish(machine_.start(operation::logout, now()));
    co_return s.revoked;
}

template <class Json, class Storage, class Browser>
boost::asio::awaitable<step> asio_flow<Json, Storage, Browser>::drive(step s) {
    namespace asio = boost::asio;
    co_await asio::this_coro::throw_if_cancelled(false);
    auto stopped = [] { return was_cancelled(); };
    // Held from the machine's lock_store step to its unlock_store step.
    typename detail::asio_adapter::store_lock<Storage>::type store_lock;
    asio::steady_timer timer(strand_);
    try {
        for (;;) {
            for (const log_entry& line : s.logs) log(line.level, line.message);
            s.logs.clear();
            switch (s.what) {
                case step::action::done:
                case step::action::failed:
                    co_return s;
                case step::action::send: {
                    if (co_await stopped()) {
                        s = machine_.on_stop(now());
                        break;
                    }
                    const http_response answer = co_await http_.send(s.request);
                    // A cancel during the exchange: the answer is not used,
                    // and nothing more is sent.
                    if (co_await stopped()) {
                        s = machine_.on_stop(now());
                        break;
                    }
                    std::optional<json_object> body;
                    if (answer && !answer.body.empty()) body = json_.parse(answer.body.reveal());
                    s = machine_.on_response(answer, body, now());
                    break;
                }
                case step::action::wait: {
                    timer.expires_at(s.until);
                    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                    // (No co_await inside a condition: GCC 12 miscompiles it.)
                    bool cancelled = static_cast<bool>(ec);
                    if (!cancelled) cancelled = co_await stopped();
                    if (cancelled)
                        s = machine_.on_stop(now());
                    else
                        s = machine_.on_time(now());
                    break;
                }
                case step::action::lock_store: {
                    // Never block the executor: try, and try again after a short wait.
                    const auto started = std::chrono::steady_clock::now();
                    bool cancelled = false;
                    for (auto pause = std::chrono::milliseconds{1};;
                         pause = std::min(pause * 2, std::chrono::milliseconds{50})) {
                        if (co_await stopped()) {
                            cancelled = true;
                            break;
                        }
                        if constexpr (detail::asio_adapter::store_lock<Storage>::lockable) {
                            store_lock = store_.try_lock(machine_.store_key());
                            if (store_lock) break;
                        } else {
                            break;  // a store without a lock: nothing to wait for
                        }
                        if constexpr (requires { store_.lock_timeout(); }) {
                            if (std::chrono::steady_clock::now() - started >= store_.lock_timeout())
                                detail::throw_error(errc::storage_failed,
                                                    "the token store's lock has been held by another "
                                                    "process for too long");
                        }
                        timer.expires_after(pause);
                        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                        if (ec) {
                            cancelled = true;
                            break;
                        }
                    }
                    s = cancelled ? machine_.on_stop(now()) : machine_.on_locked(now());
                    break;
                }
                case step::action::unlock_store:
                    store_lock.reset();
                    s = machine_.on_unlocked(now());
                    break;
                case step::action::read_store:
                    s = machine_.on_record(read_store(), now());
                    break;
                case step::action::write_store: {
                    const bool saved = write_store(s);
                    s = machine_.on_written(saved, now());
                    break;
                }
                case step::action::erase_store:
                    store_.erase(machine_.store_key());
                    s = machine_.on_erased(now());
                    break;
                case step::action::open_browser:
                    if (co_await stopped()) {
                        s = machine_.on_stop(now());
                    } else {
                        const bool opened = browser_.open(s.url);
                        s = machine_.on_browser(opened, now());
                    }
                    break;
                case step::action::show_prompt:
                    if (co_await stopped()) {
                        s = machine_.on_stop(now());
                    } else {
                        if (prompt_) prompt_(s.prompt);
                        s = machine_.on_prompted(now());
                    }
                    break;
            }
        }
    } catch (...) {
        machine_.abandon();
        throw;
    }
}

template <class Json, class Storage, class Browser>
stored_session asio_flow<Json, Storage, Browser>::read_store() {
    return detail::read_session(machine_, json_, store_,
                                [this](log_level level, std::string_view m) { log(level, m); });
}

template <class Json, class Storage, class Browser>
bool asio_flow<Json, Storage, Browser>::write_store(const step& s) {
    return detail::write_session(machine_, json_, store_, s,
                                 [this](log_level level, std::string_view m) { log(level, m); });
}

template <class Json, class Storage, class Browser>
void asio_flow<Json, Storage, Browser>::sync_cache() {
    std::unique_lock lock(cache_mutex_);
    cache_ = machine_.tokens();
    if (!cache_ || cache_->access_token.empty()) {
        header_.clear();
        return;
    }
    const auto fresh_until =
        cache_->expires_at
            ? *cache_->expires_at - detail::effective_margin(*cache_, config().refresh_margin)
            : std::chrono::system_clock::time_point::max();
    header_.publish(secret{"Bearer " + cache_->access_token.reveal()}, fresh_until);
}

template <class Json, class Storage, class Browser>
void asio_flow<Json, Storage, Browser>::log(log_level level, std::string_view message) const {
    if (log_) log_(level, detail::display_text(message));
}

}  // namespace devflow
