// devflow — curl_http: the devflow::http_client model built on libcurl
// (docs/adapters/curl.md).
//
// Guarantees: TLS peer and host verification always on (there is no switch to
// turn it off), http and https only, no redirect followed (a 3xx comes back as
// the answer), connect and total timeouts, caps on the response body and on
// its header lines, no proxy for a loopback host, one easy handle reused
// across requests (connection reuse), every failure returned as a
// devflow::transport_error with a message free of secrets. CURLOPT_VERBOSE is
// never enabled.
#pragma once

#include <devflow/detail/http_caps.hpp>
#include <devflow/error.hpp>
#include <devflow/types.hpp>
#include <devflow/version.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

namespace detail::curl_adapter {
/// "devflow/VERSION libcurl/VERSION", the default User-Agent of curl_http.
inline std::string default_user_agent();
}  // namespace detail::curl_adapter

/// Settings of devflow::curl_http (also reachable as curl_http::options).
struct curl_http_options {
    /// Longest wait for the TCP (and TLS) connection to be set up.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    /// Longest time one whole request may take, connection included.
    std::chrono::milliseconds total_timeout{std::chrono::seconds{30}};
    /// Largest response body accepted; a longer one is transport_error::too_large.
    std::size_t max_body_bytes = detail::default_max_body_bytes;
    /// Most header lines accepted in an answer (interim answers and trailers
    /// count too); one more is transport_error::too_large.
    std::size_t max_header_count = detail::default_max_header_count;
    /// Most bytes of header lines accepted in an answer, status lines and line
    /// endings included (interim answers and trailers count too); more is
    /// transport_error::too_large. libcurl's own limits still apply above it:
    /// 100 KiB for one line (reported as too_large too) and, in libcurl 7.88.1
    /// as Debian ships it, 300 KiB for a block.
    std::size_t max_header_bytes = detail::default_max_header_bytes;
    /// The proxy for URLs whose host is not loopback, as CURLOPT_PROXY takes it
    /// ("http://proxy.example:3128"); it overrides the proxy environment
    /// variables, though no_proxy/NO_PROXY still apply. Empty: libcurl reads
    /// the environment (docs/adapters/curl.md, "Proxies"). A loopback host
    /// never goes through a proxy, this one included.
    std::string proxy;
    /// A PEM file of CA certificates to trust instead of the system's (CURLOPT_CAINFO).
    std::string ca_file;
    /// A directory of hashed CA certificates to trust (CURLOPT_CAPATH).
    std::string ca_dir;
    /// The User-Agent header sent with every request.
    std::string user_agent = detail::curl_adapter::default_user_agent();
};

/// Models devflow::http_client with libcurl: one easy handle, reused.
///
/// Not thread-safe: call send() from one thread at a time (the flow does).
/// Move-only; a moved-from object creates a new handle on its next send().
class curl_http {
public:
    /// The settings type.
    using options = curl_http_options;

    /// A transport with the default settings.
    curl_http() : curl_http(options{}) {}

    /// A transport with the given settings.
    /// @throws devflow::error errc::invalid_config when a timeout or a cap is not positive.
    explicit curl_http(options settings);

    curl_http(const curl_http&) = delete;
    curl_http& operator=(const curl_http&) = delete;
    /// Takes over the other transport's handle and its open connections.
    curl_http(curl_http&&) noexcept = default;
    /// Takes over the other transport's handle and its open connections.
    curl_http& operator=(curl_http&&) noexcept = default;
    ~curl_http() = default;

    /// Sends one request and returns its answer, or the transport failure
    /// that prevented one (never throws for network trouble).
    [[nodiscard]] http_response send(const http_request& request);

    /// The settings this transport was built with.
    [[nodiscard]] const options& settings() const noexcept { return settings_; }

private:
    struct easy_deleter {
        void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
    };

    options settings_;
    std::unique_ptr<CURL, easy_deleter> handle_;
};

// ====================================================================== implementation

namespace detail::curl_adapter {

inline std::string default_user_agent() {
    std::string agent = "devflow/" DEVFLOW_VERSION_STRING;
    if (const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
        info != nullptr && info->version != nullptr) {
        agent += " libcurl/";
        agent += info->version;
    }
    return agent;
}

/// curl_global_init, once per process, thread-safely (a magic static).
inline CURLcode global_init() noexcept {
    static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
    return result;
}

/// Appends to a string that may hold a secret; when it must grow, the old
/// buffer is wiped before it is freed so no copy of the bytes is left behind.
inline void append_wiping(std::string& s, const char* data, std::size_t n) {
    if (s.capacity() - s.size() < n) {
        std::string bigger;
        bigger.reserve(std::max(s.capacity() * 2, s.size() + n));
        bigger.append(s);
        detail::wipe(s);
        s.swap(bigger);
    }
    s.append(data, n);
}

inline char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                          s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

/// True when `s` holds a byte that could end a header line or the request line.
inline bool has_line_break(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// True when a URL starts with http:// or https:// (any case).
inline bool is_http_url(std::string_view url) noexcept {
    const auto starts = [url](std::string_view prefix) {
        if (url.size() < prefix.size()) return false;
        for (std::size_t i = 0; i < prefix.size(); ++i)
            if (to_lower(url[i]) != prefix[i]) return false;
        return true;
    };
    return starts("http://") || starts("https://");
}

/// True when the authority of an absolute URL carries user information
/// ("user:password@host"): credentials never travel in a URL.
inline bool has_userinfo(std::string_view url) noexcept {
    const auto start = url.find("://");
    if (start == std::string_view::npos) return false;
    const std::string_view rest = url.substr(start + 3);
    return rest.substr(0, rest.find_first_of("/?#")).find('@') != std::string_view::npos;
}

/// True when a URL holds a space or a control character.
inline bool has_control(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
    });
}

/// What the callbacks of one transfer fill in.
struct transfer {
    transfer(std::size_t max_body_bytes, std::size_t max_header_count, std::size_t max_header_bytes)
        : max_body(max_body_bytes), tally(max_header_count, max_header_bytes) {}

    std::size_t max_body;
    header_tally tally;
    std::string body;
    std::vector<http_header> headers;
    /// The cap a callback stopped the transfer for, if one did.
    std::optional<response_cap> refused;
    bool body_started = false;
    /// The blank line ending the final (non-1xx) header block has arrived.
    bool headers_done = false;
    /// The block being read is an interim (1xx) answer.
    bool interim = false;
};

inline std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    const std::size_t n = size * count;
    t.body_started = true;
    if (n > t.max_body - t.body.size()) {
        t.refused = response_cap::body;
        return 0;  // not n: libcurl stops with CURLE_WRITE_ERROR
    }
    append_wiping(t.body, data, n);
    return n;
}

inline std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    const std::size_t n = size * count;
    std::string_view line(data, n);
    const bool status_line = line.substr(0, 5) == "HTTP/";
    const bool blank = trim(line).empty();
    // Every line counts, trailers and interim answers included, before
    // anything of it is kept.
    if (!t.tally.add(n, !status_line && !blank)) {
        t.refused = t.tally.exceeded();
        return 0;  // not n: libcurl stops with CURLE_WRITE_ERROR
    }
    if (t.body_started) return n;  // trailers: not part of the header block
    if (line.empty()) return n;
    if (status_line) {
        t.headers.clear();  // a new block (after 1xx interim answers): keep only the last
        const auto space = line.find(' ');
        t.interim = space != std::string_view::npos && space + 1 < line.size() && line[space + 1] == '1';
        return n;
    }
    if (blank) {
        t.headers_done = t.headers_done || !t.interim;
        return n;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !t.headers.empty()) {
        // Obsolete line folding (RFC 9112 §5.2): continues the previous value.
        std::string joined = t.headers.back().value.reveal();
        joined += ' ';
        joined += trim(line);
        t.headers.back().value = secret(std::move(joined));
        return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;  // blank line ends a block
    std::string name(trim(line.substr(0, colon)));
    for (char& c : name) c = to_lower(c);
    t.headers.push_back(http_header{std::move(name), secret(trim(line.substr(colon + 1)))});
    return n;
}

/// A curl_slist whose strings are wiped before they are freed (they may
/// carry the Authorization header).
class header_list {
public:
    header_list() = default;
    header_list(const header_list&) = delete;
    header_list& operator=(const header_list&) = delete;
    ~header_list() {
        for (curl_slist* item = list_; item != nullptr; item = item->next) {
            volatile char* p = item->data;
            for (; *p != '\0'; ++p) *p = '\0';
        }
        curl_slist_free_all(list_);
    }

    /// Appends one "name: value" line; false when libcurl ran out of memory.
    bool add(std::string line) {
        curl_slist* grown = curl_slist_append(list_, line.c_str());
        detail::wipe(line);
        if (grown == nullptr) return false;
        list_ = grown;
        return true;
    }

    [[nodiscard]] curl_slist* get() const noexcept { return list_; }

private:
    curl_slist* list_ = nullptr;
};

/// Maps a libcurl result to a devflow transport error (a transfer the
/// callbacks stopped at a cap is too_large before it gets here).
inline transport_error classify(CURLcode code) noexcept {
    switch (code) {
        case CURLE_OK: return transport_error::none;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return transport_error::dns;
        case CURLE_COULDNT_CONNECT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE: return transport_error::connect;
        case CURLE_OPERATION_TIMEDOUT: return transport_error::timeout;
        case CURLE_FILESIZE_EXCEEDED: return transport_error::too_large;
#if LIBCURL_VERSION_NUM >= 0x080600
        case CURLE_TOO_LARGE: return transport_error::too_large;
#endif
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_USE_SSL_FAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
#if LIBCURL_VERSION_NUM >= 0x074d00
        case CURLE_SSL_CLIENTCERT:
#endif
            return transport_error::tls;
        default: return transport_error::other;
    }
}

/// A failed response carrying `kind` and `message`.
inline http_response failure(transport_error kind, std::string message) {
    http_response response;
    response.transport = kind;
    response.transport_message = std::move(message);
    return response;
}

}  // namespace detail::curl_adapter

inline curl_http::curl_http(options settings) : settings_(std::move(settings)) {
    if (settings_.connect_timeout.count() <= 0 || settings_.total_timeout.count() <= 0)
        detail::throw_error(errc::invalid_config, "curl_http: timeouts must be positive");
    detail::require_positive_caps("curl_http", settings_.max_body_bytes, settings_.max_header_count,
                                  settings_.max_header_bytes);
}

inline http_response curl_http::send(const http_request& request) {
    namespace impl = detail::curl_adapter;

    if (!impl::is_http_url(request.url))
        return impl::failure(transport_error::other, "curl_http: only http and https URLs are allowed");
    if (impl::has_control(request.url))
        return impl::failure(transport_error::other,
                             "curl_http: the URL contains a space or a control character");
    if (impl::has_userinfo(request.url))
        return impl::failure(transport_error::other,
                             "curl_http: user information in the URL is not supported");
    for (const auto& h : request.headers) {
        if (h.name.empty() || impl::has_line_break(h.name) || h.name.find(':') != std::string::npos ||
            impl::has_line_break(h.value.reveal()))
            return impl::failure(transport_error::other,
                                 "curl_http: a request header has an invalid name or a line break");
    }

    if (!handle_) {
        if (impl::global_init() != CURLE_OK)
            return impl::failure(transport_error::other, "curl_http: curl_global_init failed");
        handle_.reset(curl_easy_init());
        if (!handle_)
            return impl::failure(transport_error::other, "curl_http: curl_easy_init failed");
    }
    CURL* const h = handle_.get();

    impl::header_list headers;
    bool headers_ok = true;
    bool has_user_agent = false;
    for (const auto& hd : request.headers) {
        std::string line = hd.name;
        if (hd.value.empty()) {
            line += ';';  // libcurl's spelling of a header with an empty value
        } else {
            line += ": ";
            line += hd.value.reveal();
        }
        headers_ok = headers_ok && headers.add(std::move(line));
        std::string lower = hd.name;
        for (char& c : lower) c = impl::to_lower(c);
        has_user_agent = has_user_agent || lower == "user-agent";
    }
    // No "Expect: 100-continue" round trip before a POST body.
    headers_ok = headers_ok && headers.add("Expect:");
    if (!headers_ok) return impl::failure(transport_error::other, "curl_http: out of memory");

    impl::transfer t(settings_.max_body_bytes, settings_.max_header_count, settings_.max_header_bytes);
    char error_text[CURL_ERROR_SIZE] = {};

    // Every option is set afresh for each request and cleared on the way out
    // (no pointer into this frame survives); curl_easy_reset keeps the live
    // connections, the DNS cache and the TLS session cache.
    struct reset_on_exit {
        CURL* handle;
        ~reset_on_exit() { curl_easy_reset(handle); }
    } const reset{h};

    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
        if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
    };
    set(CURLOPT_ERRORBUFFER, static_cast<char*>(error_text));
    set(CURLOPT_VERBOSE, 0L);  // never: verbose output would show headers and bodies
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    // A loopback host never goes through a proxy: "" turns off every proxy,
    // the environment's included (CURLOPT_PROXY(3)); CURLOPT_NOPROXY is never
    // set, so nothing turns it back on. Otherwise the explicit proxy, if any,
    // and else libcurl's reading of the environment.
    if (detail::is_loopback_url(request.url))
        set(CURLOPT_PROXY, "");
    else if (!settings_.proxy.empty())
        set(CURLOPT_PROXY, settings_.proxy.c_str());
    set(CURLOPT_FOLLOWLOCATION, 0L);  // DESIGN §4: no redirects on token requests
    set(CURLOPT_SSL_VERIFYPEER, 1L);  // DESIGN §4: verification always on
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings_.ca_file.empty()) set(CURLOPT_CAINFO, settings_.ca_file.c_str());
    if (!settings_.ca_dir.empty()) set(CURLOPT_CAPATH, settings_.ca_dir.c_str());
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout.count()));
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(settings_.max_body_bytes));
    set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (!has_user_agent) set(CURLOPT_USERAGENT, settings_.user_agent.c_str());
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_WRITEFUNCTION, &impl::on_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_HEADERFUNCTION, &impl::on_header);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
    if (request.method == http_method::post) {
        set(CURLOPT_POST, 1L);
        // Not copied by libcurl: it reads the secret's own buffer.
        set(CURLOPT_POSTFIELDS, request.body.reveal().data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else {
        set(CURLOPT_HTTPGET, 1L);
    }
    if (rc != CURLE_OK)
        return impl::failure(transport_error::other,
                             std::string("curl_http: libcurl refused an option: ") +
                                 curl_easy_strerror(rc));

    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        detail::wipe(t.body);
        if (t.refused) {
            const std::size_t limit = *t.refused == detail::response_cap::body ? settings_.max_body_bytes
                                                                              : t.tally.limit();
            return impl::failure(transport_error::too_large,
                                 detail::cap_message("curl_http", *t.refused, limit));
        }
        // libcurl refuses a header line over CURL_MAX_HTTP_HEADER on its own,
        // before the header callback sees it, and says "out of memory"
        // (CURLE_TOO_LARGE from 8.6 on).
        bool line_too_long = rc == CURLE_OUT_OF_MEMORY;
#if LIBCURL_VERSION_NUM >= 0x080600
        line_too_long = line_too_long || rc == CURLE_TOO_LARGE;
#endif
        if (line_too_long && !t.headers_done) {
            return impl::failure(
                transport_error::too_large,
                settings_.max_header_bytes < CURL_MAX_HTTP_HEADER
                    ? detail::cap_message("curl_http", detail::response_cap::header_bytes,
                                          settings_.max_header_bytes)
                    : "curl_http: a response header line is longer than libcurl accepts (" +
                          std::to_string(CURL_MAX_HTTP_HEADER) + " bytes)");
        }
        if (rc == CURLE_FILESIZE_EXCEEDED)  // a Content-Length over the body cap
            return impl::failure(transport_error::too_large,
                                 detail::cap_message("curl_http", detail::response_cap::body,
                                                     settings_.max_body_bytes));
        const transport_error kind = impl::classify(rc);
        std::string message = std::string("curl_http: ") + curl_easy_strerror(rc);
        if (error_text[0] != '\0') {
            message += ": ";
            message += error_text;
        }
        return impl::failure(kind, std::move(message));
    }

    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    http_response response;
    response.status = static_cast<int>(status);
    response.headers = std::move(t.headers);
    response.body = secret(std::move(t.body));
    return response;
}

}  // namespace devflow
