// devflow — httplib_http: the devflow::http_client model built on cpp-httplib
// (docs/adapters/httplib.md).
//
// Guarantees: TLS peer and host verification always on (there is no switch to
// turn it off), http and https only, no redirect followed (a 3xx comes back as
// the answer), connect/read/write and total timeouts, caps on the response
// body and on its header lines, no proxy for a loopback host (and none from
// the environment: cpp-httplib reads no proxy variable), one kept-alive
// client per scheme+host+port (connection reuse), every failure returned as
// a devflow::transport_error with a message free of secrets.
//
// https needs CPPHTTPLIB_OPENSSL_SUPPORT, defined by the devflow::httplib
// CMake target for every file that links it. Every translation unit of a
// program that includes <httplib.h> must see the same CPPHTTPLIB_* macros
// (they change class layouts: a mismatch is an ODR violation).
#pragma once

#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/types.hpp>

#include <httplib.h>
#include <openssl/x509.h>  // X509_verify_cert_error_string, for messages

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>  // TCP_INFO (its struct tcp_info is not used: see kernel_tcp_info_head)
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#error "devflow::httplib_http needs https: define CPPHTTPLIB_OPENSSL_SUPPORT (the devflow::httplib CMake target does) and link OpenSSL"
#endif

namespace devflow {

/// Settings of devflow::httplib_http (also reachable as httplib_http::options):
/// the settings every transport takes (http_transport_options), as
/// cpp-httplib applies them (docs/adapters/httplib.md), and two idle limits
/// of its own:
/// - connect_timeout: the TCP connection.
/// - total_timeout: the whole exchange. cpp-httplib itself has no total
///   timeout: a watchdog thread stops the client, so a server trickling
///   bytes slower than the idle limits is cut off here.
/// - max_header_count: header fields of the final answer; max_header_bytes:
///   those fields counted as `name: value` and CRLF each. cpp-httplib reads
///   a whole header block before the adapter sees any of it, so while it
///   reads, the watchdog meters the connection and stops an answer that has
///   passed this cap (plus a 64 KiB allowance for the status line and TLS)
///   before its header block ends (Linux).
/// - proxy: an HTTP proxy, "http://host:port" or "host:port" (https goes
///   through it with CONNECT). Empty: no proxy; cpp-httplib reads no proxy
///   environment variable.
/// - user_agent: "devflow/VERSION cpp-httplib/VERSION" by default.
struct httplib_http_options : http_transport_options {
    /// The defaults, with cpp-httplib and its version in user_agent.
    httplib_http_options() { user_agent += " cpp-httplib/" CPPHTTPLIB_VERSION; }

    /// Longest wait for the next bytes of the answer (an idle limit, not a total).
    std::chrono::milliseconds read_timeout{std::chrono::seconds{30}};
    /// Longest wait for the socket to accept more of the request.
    std::chrono::milliseconds write_timeout{std::chrono::seconds{30}};
};

namespace detail::httplib_adapter {
struct origin_client;  // a kept-alive client and the meter on its connection
}  // namespace detail::httplib_adapter

/// Models devflow::http_client with cpp-httplib: one kept-alive client per
/// scheme+host+port.
///
/// Not thread-safe: call send() from one thread at a time (the flow does).
/// Move-only.
class httplib_http {
public:
    /// The settings type.
    using options = httplib_http_options;

    /// A transport with the default settings.
    httplib_http() : httplib_http(options{}) {}

    /// A transport with the given settings.
    /// @throws devflow::error errc::invalid_config when check_transport_options()
    /// refuses them, a read or write timeout is not positive, or the proxy is
    /// not "http://host:port" or "host:port".
    explicit httplib_http(options settings);

    httplib_http(const httplib_http&) = delete;
    httplib_http& operator=(const httplib_http&) = delete;
    /// Takes over the other transport's clients and their open connections.
    httplib_http(httplib_http&&) noexcept = default;
    /// Takes over the other transport's clients and their open connections.
    httplib_http& operator=(httplib_http&&) noexcept = default;
    ~httplib_http() = default;

    /// Sends one request and returns its answer, or the transport failure
    /// that prevented one (never throws for network trouble).
    [[nodiscard]] http_response send(const http_request& request);

    /// The settings this transport was built with.
    [[nodiscard]] const options& settings() const noexcept { return settings_; }

private:
    detail::httplib_adapter::origin_client* client_for(const std::string& origin, bool loopback);

    options settings_;
    std::string proxy_host_;  ///< settings_.proxy split up; empty when there is none
    int proxy_port_ = 0;
    std::map<std::string, std::unique_ptr<detail::httplib_adapter::origin_client>> clients_;
};

// ====================================================================== implementation

namespace detail::httplib_adapter {

/// The name that starts every message of this transport.
inline constexpr std::string_view name = "httplib_http";

/// True when the system resolver cannot find `host` (used only to tell a DNS
/// failure from a refused connection, which cpp-httplib reports alike).
inline bool unresolvable(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (found != nullptr) ::freeaddrinfo(found);
    return rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL
#ifdef EAI_NODATA
           || rc == EAI_NODATA
#endif
        ;
}

/// A name for a cpp-httplib error (its own to_string is not exported by every build).
inline const char* describe(httplib::Error e) noexcept {
    switch (e) {
        case httplib::Error::Success: return "success";
        case httplib::Error::Unknown: return "unknown error";
        case httplib::Error::Connection: return "could not connect";
        case httplib::Error::BindIPAddress: return "could not bind the local address";
        case httplib::Error::Read: return "failed to read the answer";
        case httplib::Error::Write: return "failed to write the request";
        case httplib::Error::ExceedRedirectCount: return "too many redirects";
        case httplib::Error::Canceled: return "cancelled";
        case httplib::Error::SSLConnection: return "TLS handshake failed";
        case httplib::Error::SSLLoadingCerts: return "could not load the CA certificates";
        case httplib::Error::SSLServerVerification: return "server certificate verification failed";
        case httplib::Error::UnsupportedMultipartBoundaryChars:
            return "unsupported multipart boundary";
        case httplib::Error::Compression: return "failed to decompress the answer";
        case httplib::Error::ConnectionTimeout: return "connection timed out";
    }
    return "unknown error";
}

/// Splits a std::chrono duration into the seconds and microseconds cpp-httplib takes.
inline std::pair<time_t, time_t> sec_usec(std::chrono::milliseconds d) noexcept {
    const auto sec = std::chrono::duration_cast<std::chrono::seconds>(d);
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(d - sec);
    return {static_cast<time_t>(sec.count()), static_cast<time_t>(usec.count())};
}

/// a + b, or the largest value when that overflows.
inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max()
                                                             : a + b;
}

/// Room the connection meter allows beyond the caps: the status line, a TLS
/// handshake (certificate chains included) and framing.
inline constexpr std::uint64_t meter_allowance_bytes = std::uint64_t{64} << 10;

/// How often the watchdog reads the connection meter while a request runs.
inline constexpr std::chrono::milliseconds meter_period{2};

#if defined(__linux__)
/// The head of Linux's struct tcp_info (<linux/tcp.h>) up to
/// tcpi_bytes_received (Linux 4.1). glibc's <netinet/tcp.h> has its own
/// struct tcp_info, which ends before that field, and <linux/tcp.h> cannot be
/// included beside it; so the kernel ABI prefix is mirrored here, and
/// getsockopt's returned length says whether the kernel filled the field.
struct kernel_tcp_info_head {
    std::uint8_t state_and_options[8];  // tcpi_state ... tcpi_fastopen_client_fail
    std::uint32_t counters[24];         // tcpi_rto ... tcpi_total_retrans
    std::uint64_t pacing_rate;
    std::uint64_t max_pacing_rate;
    std::uint64_t bytes_acked;
    std::uint64_t bytes_received;
};
static_assert(offsetof(kernel_tcp_info_head, bytes_received) == 128,
              "the layout of struct tcp_info in <linux/tcp.h>");
#endif

/// The bytes the program has read so far from TCP socket `fd`: the kernel's
/// count of bytes received in order, less those still waiting in its
/// receive queue. Never more than the truth (bytes arriving between the two
/// questions only lower it). Nothing where the kernel cannot tell (not Linux,
/// Linux before 4.1, not a TCP socket).
inline std::optional<std::uint64_t> bytes_read_from(int fd) noexcept {
#if defined(__linux__)
    kernel_tcp_info_head info{};
    socklen_t length = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
        length < offsetof(kernel_tcp_info_head, bytes_received) + sizeof info.bytes_received)
        return std::nullopt;
    int unread = 0;
    if (::ioctl(fd, FIONREAD, &unread) != 0 || unread < 0) return std::nullopt;
    const auto waiting = static_cast<std::uint64_t>(unread);
    return info.bytes_received > waiting ? info.bytes_received - waiting : 0;
#else
    (void)fd;
    return std::nullopt;
#endif
}

/// Meters what cpp-httplib reads from one client's connection, for the caps
/// on an answer: cpp-httplib 0.11 reads a whole header block into memory
/// before any hook of the adapter runs, and offers no hook inside it.
///
/// cpp-httplib hands every socket it creates to set_socket_options before
/// connecting it; adopt() keeps a duplicate of that descriptor. Through it the
/// meter measures the same connection even after cpp-httplib has closed its
/// own descriptor (so the reading after a failed request is still right), and
/// a descriptor number reused by something else is never mistaken for it.
/// With keep-alive one connection serves several requests: begin() takes what
/// was read before as the baseline. Thread-safe: the watchdog reads it while
/// the sending thread may adopt a new socket.
class socket_meter {
public:
    socket_meter() = default;
    socket_meter(const socket_meter&) = delete;
    socket_meter& operator=(const socket_meter&) = delete;
    ~socket_meter() { release(); }

    /// For set_socket_options: cpp-httplib made a new socket (not yet
    /// connected), which replaces the one metered so far.
    void adopt(int fd) noexcept {
        const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);  // -1: this connection goes unmetered
        std::lock_guard lock(mutex_);
        close_copy();
        copy_ = copy;
        baseline_ = 0;
    }

    /// Before a request: what the kept-alive connection has read so far is
    /// not this request's.
    void begin() noexcept {
        std::lock_guard lock(mutex_);
        baseline_ = copy_ >= 0 ? bytes_read_from(copy_).value_or(0) : 0;
    }

    /// The bytes read from the connection since begin(), or since the socket
    /// was made when that was later; nothing when unknown.
    [[nodiscard]] std::optional<std::uint64_t> read_since_begin() noexcept {
        std::lock_guard lock(mutex_);
        if (copy_ < 0) return std::nullopt;
        const auto now = bytes_read_from(copy_);
        if (!now) return std::nullopt;
        return *now > baseline_ ? *now - baseline_ : 0;
    }

    /// Shuts the connection down in both directions under cpp-httplib: its
    /// reads end at once, even where Client::stop() would first wait for the
    /// client's lock (held while it connects, or reads a proxy's answer to
    /// CONNECT).
    void cut() noexcept {
        std::lock_guard lock(mutex_);
        if (copy_ >= 0) ::shutdown(copy_, SHUT_RDWR);
    }

    /// Lets the connection go (call when cpp-httplib no longer keeps it open:
    /// the duplicate would otherwise hold it).
    void release() noexcept {
        std::lock_guard lock(mutex_);
        close_copy();
    }

private:
    void close_copy() noexcept {
        if (copy_ >= 0) ::close(copy_);
        copy_ = -1;
    }

    std::mutex mutex_;
    int copy_ = -1;
    std::uint64_t baseline_ = 0;
};

/// Wipes the body and the header values of a cpp-httplib request or response
/// (copies of secrets) when it goes out of scope.
template <class Message>
struct wipe_on_exit {
    Message& message;
    ~wipe_on_exit() {
        detail::wipe(message.body);
        for (auto& h : message.headers) detail::wipe(h.second);
    }
};

/// One origin's kept-alive client and the meter on its connection.
struct origin_client {
    socket_meter meter;  // declared first, so it outlives the client that calls it
    std::unique_ptr<httplib::Client> client;
};

/// Splits the proxy option, "http://host:port" or "host:port"; false when it
/// is not one of those (a user name, another scheme, a path, no port).
inline bool split_proxy(std::string_view proxy, std::string& host, int& port) {
    const std::string url = proxy.find("://") == std::string_view::npos ? "http://" + std::string(proxy)
                                                                         : std::string(proxy);
    const auto parts = parse_url(url);
    if (!parts || parts->scheme != "http" || parts->port.empty() ||
        !(parts->path.empty() || parts->path == "/") || url.find('@') != std::string::npos)
        return false;
    int value = 0;
    const char* const end = parts->port.data() + parts->port.size();
    const auto [ptr, ec] = std::from_chars(parts->port.data(), end, value);
    if (ec != std::errc{} || ptr != end || value <= 0 || value > 65535) return false;
    host = parts->host;  // IPv6 without brackets, as getaddrinfo takes it
    port = value;
    return true;
}

}  // namespace detail::httplib_adapter

inline httplib_http::httplib_http(options settings) : settings_(std::move(settings)) {
    const std::string_view name = detail::httplib_adapter::name;
    check_transport_options(settings_, name);
    require_positive_option(name, "read_timeout", settings_.read_timeout);
    require_positive_option(name, "write_timeout", settings_.write_timeout);
    if (!settings_.proxy.empty() &&
        !detail::httplib_adapter::split_proxy(settings_.proxy, proxy_host_, proxy_port_))
        detail::throw_error(errc::invalid_config,
                            "httplib_http: proxy must be \"http://host:port\" or \"host:port\"");
}

inline detail::httplib_adapter::origin_client* httplib_http::client_for(const std::string& origin,
                                                                        bool loopback) {
    if (auto it = clients_.find(origin); it != clients_.end()) return it->second.get();
    // A flow talks to one or two servers; a bound keeps odd callers from piling up sockets.
    if (clients_.size() >= 8) clients_.clear();
    auto entry = std::make_unique<detail::httplib_adapter::origin_client>();
    entry->client = std::make_unique<httplib::Client>(origin);
    httplib::Client* client = entry->client.get();
    if (!client->is_valid()) return nullptr;
    detail::httplib_adapter::socket_meter* meter = &entry->meter;
    client->set_socket_options([meter](socket_t sock) { meter->adopt(sock); });
    // A loopback host never goes through a proxy.
    if (!proxy_host_.empty() && !loopback) client->set_proxy(proxy_host_, proxy_port_);
    namespace impl = detail::httplib_adapter;
    const auto [csec, cusec] = impl::sec_usec(settings_.connect_timeout);
    const auto [rsec, rusec] = impl::sec_usec(settings_.read_timeout);
    const auto [wsec, wusec] = impl::sec_usec(settings_.write_timeout);
    client->set_connection_timeout(csec, cusec);
    client->set_read_timeout(rsec, rusec);
    client->set_write_timeout(wsec, wusec);
    client->set_keep_alive(true);        // connection reuse
    client->set_follow_location(false);  // docs/design.md §3: no redirects on token requests
    client->set_url_encode(false);       // the URL is sent as written (already encoded)
    client->enable_server_certificate_verification(true);  // docs/design.md §3: always on
    if (!settings_.ca_file.empty() || !settings_.ca_dir.empty())
        client->set_ca_cert_path(settings_.ca_file, settings_.ca_dir);
    return clients_.emplace(origin, std::move(entry)).first->second.get();
}

inline http_response httplib_http::send(const http_request& request) {
    namespace impl = detail::httplib_adapter;

    if (const char* problem = http_request_problem(request))
        return transport_failure(transport_error::other, std::string("httplib_http: ") + problem);
    const http_url url = *split_http_url(request.url);  // the URL passed just above

    httplib::Request req;
    const impl::wipe_on_exit<httplib::Request> wipe_request{req};
    for (const auto& h : request.headers) req.headers.emplace(h.name, h.value.reveal());
    if (!has_header(request.headers, "user-agent"))
        req.headers.emplace("User-Agent", settings_.user_agent);
    req.method = method_name(request.method);
    req.path = url.target;
    if (request.method == http_method::post) {
        req.body = request.body.reveal();
        if (!req.has_header("Content-Type"))
            req.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    }

    capped_body body(settings_);
    bool body_refused = false;           // by the handlers below, on this thread
    std::atomic<bool> headers_read{false};  // read by the watchdog
    req.response_handler = [&](const httplib::Response& head) {
        headers_read = true;
        // Refuse early when the announced length is already over the cap.
        if (!head.has_header("Content-Length")) return true;
        const std::string length = head.get_header_value("Content-Length");
        std::uint64_t n = 0;
        const auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
        body_refused = ec == std::errc{} && ptr == length.data() + length.size() && !body.admits(n);
        return !body_refused;
    };
    req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
        body_refused = !body.append(std::string_view(data, n));
        return !body_refused;
    };

    const std::string origin = url.scheme + "://" + url.host_and_port();
    impl::origin_client* entry = client_for(origin, url.loopback);
    if (entry == nullptr)
        return transport_failure(transport_error::tls, "httplib_http: could not set up a TLS context");
    httplib::Client* client = entry->client.get();
    impl::socket_meter& meter = entry->meter;

    // What cpp-httplib may have read from the connection for this request:
    // within the header block, the header cap; after it, both caps; each
    // with an allowance for the status line, TLS and framing. Past it the
    // answer is refused, for the cap of the part being read.
    const auto over_caps = [&](std::uint64_t read) -> std::optional<response_cap> {
        const bool in_headers = !headers_read;
        std::uint64_t limit = impl::saturating_add(settings_.max_header_bytes, impl::meter_allowance_bytes);
        if (!in_headers) limit = impl::saturating_add(limit, settings_.max_body_bytes);
        if (read <= limit) return std::nullopt;
        return in_headers ? response_cap::header_bytes : response_cap::body;
    };

    httplib::Response res;
    const impl::wipe_on_exit<httplib::Response> wipe_response{res};  // what is not moved out
    httplib::Error err = httplib::Error::Success;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + settings_.total_timeout;
    // The watchdog: stops the client (thread-safe in cpp-httplib) when the
    // exchange is not over by the total timeout, or when the connection meter
    // shows more read than the caps allow; in that case it first cuts the
    // connection under cpp-httplib. cpp-httplib keeps every header line it
    // reads, so this is what bounds its memory against a header flood.
    bool finished = false;
    bool timed_out = false;
    std::optional<response_cap> stopped_at;
    std::mutex watch_mutex;
    std::condition_variable watch_cv;
    meter.begin();
    std::thread watchdog([&] {
        std::unique_lock lock(watch_mutex);
        while (!finished) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                timed_out = true;
                client->stop();
                return;
            }
            if (const auto read = meter.read_since_begin()) {
                if ((stopped_at = over_caps(*read))) {
                    meter.cut();
                    client->stop();
                    return;
                }
            }
            watch_cv.wait_until(lock, std::min(deadline, now + impl::meter_period));
        }
    });
    const bool ok = client->send(req, res, err);
    {
        std::lock_guard lock(watch_mutex);
        finished = true;
    }
    watch_cv.notify_one();
    watchdog.join();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    // Read through the meter's own descriptor: still right when cpp-httplib
    // has closed the connection. Then let the connection go if it did.
    const std::optional<std::uint64_t> read = meter.read_since_begin();
    if (client->is_socket_open() == 0) meter.release();
    const bool failed = !ok || err != httplib::Error::Success;

    // A failure that came too fast for the watchdog (one huge header line,
    // which cpp-httplib reads whole before it gives up) is judged the same way.
    std::optional<response_cap> refused = stopped_at;
    if (!refused && body_refused) refused = response_cap::body;
    if (!refused && failed && read) refused = over_caps(*read);
    if (!refused && !failed) {
        header_tally tally(settings_);
        for (const auto& [name, value] : res.headers)
            if (!tally.add_field(name, value)) break;
        refused = tally.exceeded();
    }
    if (refused) return too_large_failure(impl::name, *refused, settings_);

    const std::string where = url.host_and_port();
    if (timed_out && failed)
        return transport_failure(transport_error::timeout,
                                 "httplib_http: no complete answer within the total timeout (" +
                                     where + ")");
    if (failed) {
        transport_error kind = transport_error::other;
        std::string message = std::string("httplib_http: ") + impl::describe(err) + " (" + where + ")";
        switch (err) {
            case httplib::Error::Connection:
                kind = impl::unresolvable(url.host) ? transport_error::dns : transport_error::connect;
                if (kind == transport_error::dns) message = "httplib_http: could not resolve " + url.host;
                break;
            case httplib::Error::ConnectionTimeout: kind = transport_error::timeout; break;
            case httplib::Error::Read:
                // cpp-httplib reports a read timeout and a dropped connection alike;
                // only a read that waited the whole read timeout can be the former.
                kind = elapsed >= settings_.read_timeout * 9 / 10 ? transport_error::timeout
                                                                   : transport_error::connect;
                if (kind == transport_error::timeout)
                    message = "httplib_http: no answer within the read timeout (" + where + ")";
                break;
            case httplib::Error::Write:
                kind = elapsed >= settings_.write_timeout * 9 / 10 ? transport_error::timeout
                                                                    : transport_error::connect;
                break;
            case httplib::Error::SSLConnection:
            case httplib::Error::SSLLoadingCerts: kind = transport_error::tls; break;
            case httplib::Error::SSLServerVerification:
                kind = transport_error::tls;
                if (const long result = client->get_openssl_verify_result(); result != X509_V_OK) {
                    message += ": ";
                    message += X509_verify_cert_error_string(result);
                }
                break;
            default: break;
        }
        return transport_failure(kind, std::move(message));
    }

    if (res.status < 200) {
        // cpp-httplib skips only a bare "100 Continue"; any other interim
        // answer would be mistaken for the final one. Drop the connection.
        clients_.erase(origin);
        return transport_failure(transport_error::other,
                                 "httplib_http: unsupported interim answer (status " +
                                     std::to_string(res.status) + ")");
    }

    http_response response;
    response.status = res.status;
    response.headers.reserve(res.headers.size());
    for (auto& [name, value] : res.headers)
        response.headers.push_back(response_header(name, std::move(value)));
    response.body = body.take();
    return response;
}

}  // namespace devflow
