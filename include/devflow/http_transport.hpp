// devflow — http_transport: what every model of devflow::http_client has to
// do whatever library carries its bytes (docs/policies.md, "Writing your own
// Http policy"). The shipped transports, curl_http and httplib_http, are
// built on it and hold only what their library needs; a transport of your
// own can be built on it too. Standard library only.
//
//   settings  http_transport_options, the settings every transport takes,
//             and check_transport_options, their one validation.
//   requests  http_request_problem: the requests no transport sends (not
//             plain http or https, user information or control characters in
//             the URL, a header that could inject another);
//             split_http_url: the URL as a transport connects to it, with
//             the loopback rule for proxies.
//   answers   header_tally and capped_body: the caps on a header block and a
//             body, counted as the bytes arrive; append_wiping: growth that
//             leaves no copy of a secret behind; response_header: one field
//             as http_response holds it.
//   failures  transport_failure and too_large_failure: the http_response of
//             a request that got no answer.
//
// What holds for all of it: no message names a header value or a body (they
// name options, hosts and ports), and every buffer here that held part of an
// answer is wiped before its memory is released.
#pragma once

#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>
#include <devflow/secret.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

// ====================================================================== settings

/// The settings every HTTP transport takes. curl_http_options and
/// httplib_http_options derive from it (their pages say how their library
/// applies each one); a transport of your own can take it as it is.
/// check_transport_options() validates it.
struct http_transport_options {
    /// Longest wait for the connection to be set up.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    /// Longest time one whole request may take, connection included.
    std::chrono::milliseconds total_timeout{std::chrono::seconds{30}};
    /// Largest response body accepted (1 MiB); a longer one is
    /// transport_error::too_large.
    std::size_t max_body_bytes = std::size_t{1} << 20;
    /// Most header fields accepted in an answer (100); one more is
    /// transport_error::too_large.
    std::size_t max_header_count = 100;
    /// Most bytes of header fields accepted in an answer (64 KiB), line
    /// endings included; more is transport_error::too_large.
    std::size_t max_header_bytes = std::size_t{64} << 10;
    /// The proxy for hosts that are not loopback. Empty: the transport's
    /// default (curl_http: the proxy environment variables; httplib_http: no
    /// proxy). A loopback host never goes through a proxy (http_url::loopback).
    std::string proxy;
    /// A PEM file of CA certificates to trust instead of the system's.
    std::string ca_file;
    /// A directory of hashed CA certificates to trust (`openssl rehash`).
    std::string ca_dir;
    /// The User-Agent header of every request that carries none of its own.
    /// The shipped transports append their library and its version.
    std::string user_agent = "devflow/" DEVFLOW_VERSION_STRING;
};

/// Throws devflow::error errc::invalid_config, "TRANSPORT: OPTION must be
/// positive", unless `value` is positive. For a transport's own settings.
inline void require_positive_option(std::string_view transport, std::string_view option,
                                    std::chrono::milliseconds value);

/// Throws devflow::error errc::invalid_config, "TRANSPORT: OPTION must be
/// positive", when `value` is zero. For a transport's own settings.
inline void require_positive_option(std::string_view transport, std::string_view option,
                                    std::size_t value);

/// Validates the settings every transport shares: both timeouts and the three
/// caps positive; proxy, ca_file, ca_dir and user_agent free of line breaks
/// and NUL bytes (the User-Agent becomes a header line, the others C strings).
/// @throws devflow::error errc::invalid_config naming the option, its message
/// prefixed with `transport` ("curl_http: total_timeout must be positive").
inline void check_transport_options(const http_transport_options& settings,
                                    std::string_view transport);

// ====================================================================== requests

/// Why a transport must not send `request`, or nullptr when it may. One
/// sentence without the URL or any header value, e.g. "only http and https
/// URLs are allowed"; prefix it with the transport's name. Refused:
/// - a URL holding a space or a control character;
/// - a URL that is not absolute http or https (any case);
/// - user information in the URL ("user:password@host": credentials never
///   travel in a URL);
/// - a malformed host or port (an unterminated or malformed IPv6 literal, a
///   ':' outside one, a port that is not 1 to 65535);
/// - a header whose name is empty or not an RFC 9110 token (no ':', space or
///   line break), or whose value holds CR, LF or NUL (header injection).
[[nodiscard]] inline const char* http_request_problem(const http_request& request);

/// An http(s) URL split the way a transport connects to it.
struct http_url {
    std::string scheme;      ///< "http" or "https"
    std::string host;        ///< lower-case; an IPv6 literal without its brackets
    std::uint16_t port = 0;  ///< as written, else 80 for http and 443 for https
    std::string target;      ///< path and query as written, "/" when empty; never the fragment
    /// The host is loopback by devflow's one rule (`localhost`, a canonical
    /// dotted quad in 127.0.0.0/8, `[::1]`; docs/design.md, "Loopback"). A
    /// request to it never goes through a proxy: that would send what may be
    /// a token, maybe over plain http, to another machine.
    bool loopback = false;

    /// "host:port", an IPv6 literal in brackets: for messages and origins.
    [[nodiscard]] std::string host_and_port() const;
};

/// `url` split up; std::nullopt exactly when http_request_problem() refuses
/// the URL (a request's headers aside).
[[nodiscard]] inline std::optional<http_url> split_http_url(std::string_view url);

/// True when `headers` has a header called `name`, compared without case
/// (a request that brings its own User-Agent keeps it).
[[nodiscard]] inline bool has_header(const std::vector<http_header>& headers,
                                     std::string_view name) noexcept;

/// "GET" or "POST".
[[nodiscard]] constexpr std::string_view method_name(http_method method) noexcept {
    return method == http_method::post ? "POST" : "GET";
}

// ====================================================================== answers

/// Which cap an answer passed.
enum class response_cap {
    body,          ///< max_body_bytes
    header_count,  ///< max_header_count
    header_bytes,  ///< max_header_bytes
};

/// Counts the header lines of one answer against max_header_count and
/// max_header_bytes as they arrive, before anything of a line is kept.
class header_tally {
public:
    /// A tally for the caps of `settings`.
    explicit header_tally(const http_transport_options& settings) noexcept
        : max_count_(settings.max_header_count), max_bytes_(settings.max_header_bytes) {}

    /// Counts one raw line of `bytes` bytes, its line ending included; a
    /// header field when `field` (a status line, or the blank line ending a
    /// block, adds bytes only). Returns false when that line passes a cap
    /// (exceeded() says which); once one is passed, every later line is
    /// refused too.
    bool add(std::size_t bytes, bool field) noexcept;

    /// Counts one parsed field as the line `name: value` CRLF, for libraries
    /// that hand over headers already split. Returns what add() returns.
    bool add_field(std::string_view name, std::string_view value) noexcept {
        return add(name.size() + value.size() + 4, true);
    }

    /// The cap a line passed, if one did.
    [[nodiscard]] std::optional<response_cap> exceeded() const noexcept { return exceeded_; }

private:
    std::size_t max_count_;
    std::size_t max_bytes_;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    std::optional<response_cap> exceeded_;
};

/// Appends `chunk` to `buffer`, which may hold a secret. When the buffer must
/// grow, its bytes move to a new one (at least twice as large) and the old
/// one is wiped before it is freed, so no copy is left behind in freed memory
/// (std::string's own growth would leave one).
inline void append_wiping(std::string& buffer, std::string_view chunk);

/// A response body being received, held to max_body_bytes, and wiped
/// whatever becomes of it: when the transfer fails it is never taken, and the
/// destructor wipes it.
class capped_body {
public:
    /// An empty body that holds at most `settings.max_body_bytes`.
    explicit capped_body(const http_transport_options& settings) noexcept
        : max_bytes_(settings.max_body_bytes) {}
    capped_body(const capped_body&) = delete;
    capped_body& operator=(const capped_body&) = delete;
    ~capped_body() { detail::wipe(bytes_); }

    /// Appends the next chunk (append_wiping). False, keeping nothing of the
    /// chunk, when it would take the body past the cap: stop the transfer
    /// and answer too_large_failure(..., response_cap::body, ...).
    [[nodiscard]] bool append(std::string_view chunk) {
        if (chunk.size() > max_bytes_ - bytes_.size()) return false;
        append_wiping(bytes_, chunk);
        return true;
    }

    /// True when a body of `total` bytes fits under the cap: refuse an
    /// announced Content-Length before reading the body.
    [[nodiscard]] bool admits(std::uint64_t total) const noexcept { return total <= max_bytes_; }

    /// The bytes received so far.
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }

    /// The whole body, for http_response::body; its buffer moves into the
    /// secret (nothing is copied) and this object is left empty.
    [[nodiscard]] secret take() noexcept { return secret(std::move(bytes_)); }

private:
    std::size_t max_bytes_;
    std::string bytes_;
};

/// `value` without the spaces and tabs around it, nor the CR and LF at its
/// end (a raw header line comes with its line ending).
[[nodiscard]] constexpr std::string_view trim_header_value(std::string_view value) noexcept {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                              value.back() == '\n'))
        value.remove_suffix(1);
    return value;
}

/// One response header as http_response holds it: the name trimmed and
/// lower-cased, the value trimmed (trim_header_value) inside a secret. The
/// value's buffer moves into the secret; nothing of it is copied.
[[nodiscard]] inline http_header response_header(std::string_view name, std::string value);

// ====================================================================== failures

/// The answer to a request that got none: status 0, `transport` = `kind`
/// (anything but none), and `message`, one line that names no header value
/// and no body, prefixed with the transport's name by convention
/// ("my_http: could not connect (auth.example:443)").
[[nodiscard]] inline http_response transport_failure(transport_error kind, std::string message);

/// The answer refused by `cap`: transport_error::too_large, with a message
/// naming the option and its value in `settings` ("curl_http: the response
/// body is larger than max_body_bytes (1048576 bytes)"), never anything the
/// server sent.
[[nodiscard]] inline http_response too_large_failure(std::string_view transport, response_cap cap,
                                                     const http_transport_options& settings);

// ====================================================================== implementation

namespace detail::transport {

/// True when `s` holds a byte that could end a header line or a C string.
constexpr bool has_line_break(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// True for a tchar of RFC 9110 §5.6.2: the characters of a header name.
constexpr bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// Throws errc::invalid_config: "TRANSPORT: OPTION WHAT".
[[noreturn]] inline void refuse_option(std::string_view transport, std::string_view option,
                                       std::string_view what) {
    throw_error(errc::invalid_config,
                std::string(transport) + ": " + std::string(option) + " " + std::string(what));
}

/// `url` split up, or std::nullopt with `problem` saying why not.
inline std::optional<http_url> split(std::string_view url, const char*& problem) {
    problem = nullptr;
    for (unsigned char c : url) {
        if (c <= 0x20 || c == 0x7F) {
            problem = "the URL contains a space or a control character";
            return std::nullopt;
        }
    }
    const auto sep = url.find("://");
    const std::string scheme = ascii_lower(url.substr(0, sep == std::string_view::npos ? 0 : sep));
    if (scheme != "http" && scheme != "https") {
        problem = "only http and https URLs are allowed";
        return std::nullopt;
    }
    const auto parts = parse_url(url);
    if (parts && parts->has_userinfo) {
        problem = "user information in the URL is not supported";
        return std::nullopt;
    }
    // parse_url has checked the brackets and that the port is digits.
    const bool host_ok =
        parts && (parts->ip_literal
                      ? parts->host.find_first_not_of("0123456789abcdef:.") == std::string::npos
                      : parts->host.find_first_of(":[]") == std::string::npos);
    unsigned long port = scheme == "https" ? 443 : 80;
    if (parts && !parts->port.empty()) {
        port = 0;  // more than five digits stays 0: refused below
        if (parts->port.size() <= 5)
            for (char c : parts->port) port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!host_ok || port < 1 || port > 65535) {
        problem = "the URL has a malformed host or port";
        return std::nullopt;
    }
    http_url out;
    out.scheme = scheme;
    out.host = parts->host;
    out.port = static_cast<std::uint16_t>(port);
    std::string_view target = parts->path;
    target = target.substr(0, target.find('#'));
    out.target = target.empty() || target.front() != '/' ? "/" + std::string(target)
                                                         : std::string(target);
    out.loopback = is_loopback_host(out.host);
    return out;
}

}  // namespace detail::transport

inline void require_positive_option(std::string_view transport, std::string_view option,
                                    std::chrono::milliseconds value) {
    if (value.count() <= 0) detail::transport::refuse_option(transport, option, "must be positive");
}

inline void require_positive_option(std::string_view transport, std::string_view option,
                                    std::size_t value) {
    if (value == 0) detail::transport::refuse_option(transport, option, "must be positive");
}

inline void check_transport_options(const http_transport_options& settings,
                                    std::string_view transport) {
    require_positive_option(transport, "connect_timeout", settings.connect_timeout);
    require_positive_option(transport, "total_timeout", settings.total_timeout);
    require_positive_option(transport, "max_body_bytes", settings.max_body_bytes);
    require_positive_option(transport, "max_header_count", settings.max_header_count);
    require_positive_option(transport, "max_header_bytes", settings.max_header_bytes);
    const std::pair<std::string_view, const std::string*> texts[] = {
        {"proxy", &settings.proxy},
        {"ca_file", &settings.ca_file},
        {"ca_dir", &settings.ca_dir},
        {"user_agent", &settings.user_agent},
    };
    for (const auto& [option, text] : texts)
        if (detail::transport::has_line_break(*text))
            detail::transport::refuse_option(transport, option, "holds a line break or a NUL byte");
}

inline const char* http_request_problem(const http_request& request) {
    const char* problem = nullptr;
    if (!detail::transport::split(request.url, problem)) return problem;
    for (const auto& h : request.headers) {
        if (h.name.empty() ||
            !std::all_of(h.name.begin(), h.name.end(), detail::transport::is_token_char))
            return "a request header has an invalid name";
        if (detail::transport::has_line_break(h.value.reveal()))
            return "a request header value holds a line break";
    }
    return nullptr;
}

inline std::string http_url::host_and_port() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

inline std::optional<http_url> split_http_url(std::string_view url) {
    const char* problem = nullptr;
    return detail::transport::split(url, problem);
}

inline bool has_header(const std::vector<http_header>& headers, std::string_view name) noexcept {
    return std::any_of(headers.begin(), headers.end(), [name](const http_header& h) {
        return h.name.size() == name.size() &&
               std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
                   return detail::ascii_lower(a) == detail::ascii_lower(b);
               });
    });
}

inline bool header_tally::add(std::size_t bytes, bool field) noexcept {
    if (exceeded_) return false;
    if (bytes > max_bytes_ - bytes_) {
        exceeded_ = response_cap::header_bytes;
        return false;
    }
    bytes_ += bytes;
    if (field && ++count_ > max_count_) {
        exceeded_ = response_cap::header_count;
        return false;
    }
    return true;
}

inline void append_wiping(std::string& buffer, std::string_view chunk) {
    if (buffer.capacity() - buffer.size() < chunk.size()) {
        std::string bigger;
        bigger.reserve(std::max(buffer.capacity() * 2, buffer.size() + chunk.size()));
        bigger.append(buffer);
        detail::wipe(buffer);
        buffer.swap(bigger);
    }
    buffer.append(chunk);
}

inline http_header response_header(std::string_view name, std::string value) {
    const std::string_view trimmed = trim_header_value(value);
    const auto start = static_cast<std::size_t>(trimmed.data() - value.data());
    value.erase(start + trimmed.size());  // shrinking never moves the buffer
    value.erase(0, start);
    return http_header{detail::ascii_lower(trim_header_value(name)), secret(std::move(value))};
}

inline http_response transport_failure(transport_error kind, std::string message) {
    http_response response;
    response.transport = kind;
    response.transport_message = std::move(message);
    return response;
}

inline http_response too_large_failure(std::string_view transport, response_cap cap,
                                       const http_transport_options& settings) {
    std::string m(transport);
    switch (cap) {
        case response_cap::body:
            m += ": the response body is larger than max_body_bytes (" +
                 std::to_string(settings.max_body_bytes) + " bytes)";
            break;
        case response_cap::header_count:
            m += ": the response has more header lines than max_header_count (" +
                 std::to_string(settings.max_header_count) + ")";
            break;
        case response_cap::header_bytes:
            m += ": the response headers are larger than max_header_bytes (" +
                 std::to_string(settings.max_header_bytes) + " bytes)";
            break;
    }
    return transport_failure(transport_error::too_large, std::move(m));
}

}  // namespace devflow
