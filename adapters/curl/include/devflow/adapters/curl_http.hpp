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

#include <devflow/http_transport.hpp>
#include <devflow/types.hpp>

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

/// Settings of devflow::curl_http (also reachable as curl_http::options): the
/// settings every transport takes (http_transport_options), as libcurl
/// applies them (docs/adapters/curl.md):
/// - connect_timeout: TCP and TLS set-up (CURLOPT_CONNECTTIMEOUT_MS);
///   total_timeout: CURLOPT_TIMEOUT_MS.
/// - max_header_count and max_header_bytes count every header line libcurl
///   hands over, status lines and line endings in the bytes, interim (1xx)
///   answers and trailers included. libcurl's own limits still apply above
///   them: 100 KiB for one line (reported as too_large too) and, in libcurl
///   7.88.1 as Debian ships it, 300 KiB for a block.
/// - proxy: as CURLOPT_PROXY takes it ("http://proxy.example:3128"); it
///   overrides the proxy environment variables, though no_proxy/NO_PROXY
///   still apply. Empty: libcurl reads the environment ("Proxies").
/// - ca_file: CURLOPT_CAINFO; ca_dir: CURLOPT_CAPATH.
/// - user_agent: "devflow/VERSION libcurl/VERSION" by default.
struct curl_http_options : http_transport_options {
    /// The defaults, with libcurl and its version in user_agent.
    curl_http_options();
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
    /// @throws devflow::error errc::invalid_config when check_transport_options() refuses them.
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

/// The name that starts every message of this transport.
inline constexpr std::string_view name = "curl_http";

/// curl_global_init, once per process, thread-safely (a magic static).
inline CURLcode global_init() noexcept {
    static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
    return result;
}

/// What the callbacks of one transfer fill in.
struct transfer {
    explicit transfer(const http_transport_options& settings) : body(settings), tally(settings) {}

    capped_body body;
    header_tally tally;
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
    if (!t.body.append(std::string_view(data, n))) {
        t.refused = response_cap::body;
        return 0;  // not n: libcurl stops with CURLE_WRITE_ERROR
    }
    return n;
}

inline std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& t = *static_cast<transfer*>(user);
    const std::size_t n = size * count;
    std::string_view line(data, n);
    const bool status_line = line.substr(0, 5) == "HTTP/";
    const bool blank = trim_header_value(line).empty();
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
        // Built at its exact size, so no copy of the old value is left behind.
        const std::string& previous = t.headers.back().value.reveal();
        const std::string_view more = trim_header_value(line);
        std::string joined;
        joined.reserve(previous.size() + 1 + more.size());
        joined.append(previous).append(1, ' ').append(more);
        t.headers.back().value = secret(std::move(joined));
        return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;  // blank line ends a block
    t.headers.push_back(response_header(line.substr(0, colon), std::string(line.substr(colon + 1))));
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

}  // namespace detail::curl_adapter

inline curl_http_options::curl_http_options() {
    if (const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
        info != nullptr && info->version != nullptr) {
        user_agent += " libcurl/";
        user_agent += info->version;
    }
}

inline curl_http::curl_http(options settings) : settings_(std::move(settings)) {
    check_transport_options(settings_, detail::curl_adapter::name);
}

inline http_response curl_http::send(const http_request& request) {
    namespace impl = detail::curl_adapter;

    if (const char* problem = http_request_problem(request))
        return transport_failure(transport_error::other, std::string("curl_http: ") + problem);
    const bool loopback = split_http_url(request.url)->loopback;  // the URL passed just above

    if (!handle_) {
        if (impl::global_init() != CURLE_OK)
            return transport_failure(transport_error::other, "curl_http: curl_global_init failed");
        handle_.reset(curl_easy_init());
        if (!handle_)
            return transport_failure(transport_error::other, "curl_http: curl_easy_init failed");
    }
    CURL* const h = handle_.get();

    impl::header_list headers;
    bool headers_ok = true;
    for (const auto& hd : request.headers) {
        std::string line = hd.name;
        if (hd.value.empty()) {
            line += ';';  // libcurl's spelling of a header with an empty value
        } else {
            line += ": ";
            line += hd.value.reveal();
        }
        headers_ok = headers_ok && headers.add(std::move(line));
    }
    // No "Expect: 100-continue" round trip before a POST body.
    headers_ok = headers_ok && headers.add("Expect:");
    if (!headers_ok) return transport_failure(transport_error::other, "curl_http: out of memory");

    impl::transfer t(settings_);
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
    if (loopback)
        set(CURLOPT_PROXY, "");
    else if (!settings_.proxy.empty())
        set(CURLOPT_PROXY, settings_.proxy.c_str());
    set(CURLOPT_FOLLOWLOCATION, 0L);  // docs/design.md §3: no redirects on token requests
    set(CURLOPT_SSL_VERIFYPEER, 1L);  // docs/design.md §3: verification always on
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings_.ca_file.empty()) set(CURLOPT_CAINFO, settings_.ca_file.c_str());
    if (!settings_.ca_dir.empty()) set(CURLOPT_CAPATH, settings_.ca_dir.c_str());
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout.count()));
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(settings_.max_body_bytes));
    set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (!has_header(request.headers, "user-agent"))
        set(CURLOPT_USERAGENT, settings_.user_agent.c_str());
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
        return transport_failure(transport_error::other,
                                 std::string("curl_http: libcurl refused an option: ") +
                                     curl_easy_strerror(rc));

    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {  // t.body wipes what it holds
        if (t.refused) return too_large_failure(impl::name, *t.refused, settings_);
        // libcurl refuses a header line over CURL_MAX_HTTP_HEADER on its own,
        // before the header callback sees it, and says "out of memory"
        // (CURLE_TOO_LARGE from 8.6 on).
        bool line_too_long = rc == CURLE_OUT_OF_MEMORY;
#if LIBCURL_VERSION_NUM >= 0x080600
        line_too_long = line_too_long || rc == CURLE_TOO_LARGE;
#endif
        if (line_too_long && !t.headers_done) {
            if (settings_.max_header_bytes < CURL_MAX_HTTP_HEADER)
                return too_large_failure(impl::name, response_cap::header_bytes, settings_);
            return transport_failure(transport_error::too_large,
                                     "curl_http: a response header line is longer than libcurl "
                                     "accepts (" + std::to_string(CURL_MAX_HTTP_HEADER) + " bytes)");
        }
        if (rc == CURLE_FILESIZE_EXCEEDED)  // a Content-Length over the body cap
            return too_large_failure(impl::name, response_cap::body, settings_);
        std::string message = std::string("curl_http: ") + curl_easy_strerror(rc);
        if (error_text[0] != '\0') {
            message += ": ";
            message += error_text;
        }
        return transport_failure(impl::classify(rc), std::move(message));
    }

    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    http_response response;
    response.status = static_cast<int>(status);
    response.headers = std::move(t.headers);
    response.body = t.body.take();
    return response;
}

}  // namespace devflow
