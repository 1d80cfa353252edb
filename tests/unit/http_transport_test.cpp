// http_transport.hpp: what every HTTP transport shares (docs/policies.md,
// "Writing your own Http policy"): the settings and their validation, the
// requests no transport sends, URL splitting with the loopback rule, the
// header and body caps, wiping growth, and the failure answers.
#include <devflow/http_transport.hpp>
#include <devflow/testing/fake_http.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using devflow::errc;
using devflow::http_request;
using devflow::http_transport_options;
using devflow::response_cap;
using devflow::transport_error;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

/// A POST to `url` carrying a canary in its Authorization header and body.
http_request request_to(std::string url, std::vector<devflow::http_header> headers = {}) {
    http_request r;
    r.url = std::move(url);
    r.headers.push_back({"Authorization", devflow::secret("Bearer CANARY-token-5e1d")});
    for (auto& h : headers) r.headers.push_back(std::move(h));
    r.body = devflow::secret("device_code=CANARY-device-code");
    return r;
}

constexpr const char* no_scheme = "only http and https URLs are allowed";
constexpr const char* control = "the URL contains a space or a control character";
constexpr const char* userinfo = "user information in the URL is not supported";
constexpr const char* malformed = "the URL has a malformed host or port";
constexpr const char* bad_name = "a request header has an invalid name";
constexpr const char* bad_value = "a request header value holds a line break";

}  // namespace

// ---------------------------------------------------------------- requests

TEST_CASE("http_request_problem accepts plain http and https URLs with ordinary headers",
          "[http_transport]") {
    for (const char* url : {"http://127.0.0.1:8080/token", "https://auth.example.com/realms/dev/token",
                            "HTTPS://Auth.Example.COM:8443/Realms/Dev/token?x=1#frag",
                            "HtTp://localhost", "https://[::1]:8443/device", "https://[2001:DB8::1]/",
                            "https://example.com?a=b", "http://example.com:/", "https://example.com:65535/",
                            "https://xn--bcher-kva.example/%7Euser/a%20b"}) {
        INFO(url);
        CHECK(devflow::http_request_problem(request_to(url)) == nullptr);
        CHECK(devflow::split_http_url(url).has_value());
    }
    const auto headers = request_to(
        "https://auth.example.com/token",
        {{"Content-Type", devflow::secret("application/x-www-form-urlencoded")},
         {"X-Empty", devflow::secret("")},
         {"X-Tchars!#$%&'*+-.^_`|~09", devflow::secret("tab\tand obs-text \xC3\xA9 are fine")}});
    CHECK(devflow::http_request_problem(headers) == nullptr);
}

TEST_CASE("http_request_problem refuses every URL a transport must not send, in the same words",
          "[http_transport]") {
    struct row {
        std::string url;
        const char* problem;
    };
    const std::vector<row> table = {
        {"ftp://example.com/x", no_scheme},
        {"file:///etc/passwd", no_scheme},
        {"127.0.0.1:8080/token", no_scheme},
        {"//example.com/token", no_scheme},
        {"", no_scheme},
        {"javascript:alert(1)", no_scheme},
        {"httpx://example.com/", no_scheme},
        {"https://example.com/a b", control},
        {"https://example.com/\r\nX-Injected: 1", control},
        {"https://exa\tmple.com/", control},
        {"https://example.com/\x7F", control},
        {std::string("https://example.com\0.evil/", 26), control},
        {"ftp://example.com/ spaces first", control},
        {"http://user:CANARY-password@127.0.0.1/token", userinfo},
        {"https://good.example@evil.example/", userinfo},
        {"https://@example.com/", userinfo},
        {"https://", malformed},
        {"https:///path", malformed},
        {"https://:443/", malformed},
        {"https://[::1/", malformed},
        {"https://[::1]x/", malformed},
        {"https://[]/", malformed},
        {"https://[fe80::zz]/", malformed},
        {"http://::1:80/", malformed},  // an IPv6 literal without its brackets
        {"https://exa]mple.com/", malformed},
        {"https://example.com:0/", malformed},
        {"https://example.com:65536/", malformed},
        {"https://example.com:123456/", malformed},
        {"https://example.com:80a/", malformed},
        {"https://example.com:-1/", malformed},
    };
    for (const auto& r : table) {
        INFO("URL: " << r.url);
        const char* problem = devflow::http_request_problem(request_to(r.url));
        REQUIRE(problem != nullptr);
        CHECK(std::string_view(problem) == r.problem);
        CHECK(devflow_test::leak_free(problem));
        CHECK_FALSE(devflow::split_http_url(r.url).has_value());
    }
}

TEST_CASE("http_request_problem refuses header names that are not tokens and values with line breaks",
          "[http_transport]") {
    struct row {
        std::string name;
        std::string value;
        const char* problem;
    };
    const std::vector<row> table = {
        {"", "1", bad_name},
        {"X Note", "1", bad_name},
        {"X-Note:", "1", bad_name},
        {"X-Note\r\nX-Injected", "1", bad_name},
        {"X-Note\n", "1", bad_name},
        {std::string("X-Note\0", 7), "1", bad_name},
        {"(comment)", "1", bad_name},
        {"X-N\xC3\xB6te", "1", bad_name},
        {"X-Note", "CANARY\r\nX-Injected: 1", bad_value},
        {"X-Note", "CANARY\n", bad_value},
        {"X-Note", "CANARY\r", bad_value},
        {"X-Note", std::string("CANARY\0tail", 11), bad_value},
    };
    for (const auto& r : table) {
        INFO("header name of " << r.name.size() << " bytes");
        const auto request =
            request_to("https://auth.example.com/token", {{r.name, devflow::secret(r.value)}});
        const char* problem = devflow::http_request_problem(request);
        REQUIRE(problem != nullptr);
        CHECK(std::string_view(problem) == r.problem);
        CHECK(devflow_test::leak_free(problem));
    }
}

TEST_CASE("split_http_url gives the scheme, host, port and target a transport connects with",
          "[http_transport]") {
    const auto a = devflow::split_http_url("HTTPS://Auth.Example.COM:8443/Realms/Dev/token?x=1#frag");
    REQUIRE(a);
    CHECK(a->scheme == "https");
    CHECK(a->host == "auth.example.com");
    CHECK(a->port == 8443);
    CHECK(a->target == "/Realms/Dev/token?x=1");
    CHECK_FALSE(a->loopback);
    CHECK(a->host_and_port() == "auth.example.com:8443");

    const auto b = devflow::split_http_url("http://[::1]/device");
    REQUIRE(b);
    CHECK(b->host == "::1");
    CHECK(b->port == 80);
    CHECK(b->loopback);
    CHECK(b->host_and_port() == "[::1]:80");

    struct row {
        const char* url;
        std::uint16_t port;
        const char* target;
    };
    for (const row& r : {row{"https://example.com", 443, "/"}, row{"http://example.com", 80, "/"},
                         row{"http://example.com:/", 80, "/"}, row{"https://example.com?a=b", 443, "/?a=b"},
                         row{"https://example.com#top", 443, "/"},
                         row{"https://example.com/a%20b/?q=%2F#x", 443, "/a%20b/?q=%2F"},
                         row{"http://example.com:00080/x", 80, "/x"}}) {
        INFO(r.url);
        const auto u = devflow::split_http_url(r.url);
        REQUIRE(u);
        CHECK(u->port == r.port);
        CHECK(u->target == r.target);
    }
}

TEST_CASE("split_http_url marks exactly devflow's loopback hosts, which never go through a proxy",
          "[http_transport]") {
    for (const char* url : {"http://localhost:8080/", "http://LOCALHOST/", "http://127.0.0.1/",
                            "http://127.255.0.9:1/", "https://[::1]:8443/"}) {
        INFO(url);
        const auto u = devflow::split_http_url(url);
        REQUIRE(u);
        CHECK(u->loopback);
    }
    for (const char* url : {"http://evil.localhost/", "http://127.1/", "http://127.08.0.1/",
                            "http://localhost.evil.example/", "https://[::2]/", "http://128.0.0.1/"}) {
        INFO(url);
        const auto u = devflow::split_http_url(url);
        REQUIRE(u);
        CHECK_FALSE(u->loopback);
    }
}

TEST_CASE("has_header compares names without case and method_name spells the methods",
          "[http_transport]") {
    const std::vector<devflow::http_header> headers = {{"User-Agent", devflow::secret("me")},
                                                       {"accept", devflow::secret("x")}};
    CHECK(devflow::has_header(headers, "user-agent"));
    CHECK(devflow::has_header(headers, "USER-AGENT"));
    CHECK(devflow::has_header(headers, "Accept"));
    CHECK_FALSE(devflow::has_header(headers, "user-agen"));
    CHECK_FALSE(devflow::has_header(headers, "authorization"));
    CHECK_FALSE(devflow::has_header({}, "accept"));
    CHECK(devflow::method_name(devflow::http_method::get) == "GET");
    CHECK(devflow::method_name(devflow::http_method::post) == "POST");
}

// ---------------------------------------------------------------- settings

TEST_CASE("the common transport settings default to 10 s, 30 s, 1 MiB, 100 lines and 64 KiB",
          "[http_transport]") {
    const http_transport_options o;
    CHECK(o.connect_timeout == 10s);
    CHECK(o.total_timeout == 30s);
    CHECK(o.max_body_bytes == std::size_t{1} << 20);
    CHECK(o.max_header_count == 100);
    CHECK(o.max_header_bytes == std::size_t{64} << 10);
    CHECK(o.proxy.empty());
    CHECK(o.ca_file.empty());
    CHECK(o.ca_dir.empty());
    CHECK(o.user_agent == "devflow/" DEVFLOW_VERSION_STRING);
    CHECK_NOTHROW(devflow::check_transport_options(o, "my_http"));
}

TEST_CASE("check_transport_options refuses a timeout or cap that is not positive, naming it",
          "[http_transport]") {
    struct row {
        const char* option;
        void (*spoil)(http_transport_options&);
    };
    const row table[] = {
        {"connect_timeout", [](http_transport_options& o) { o.connect_timeout = 0ms; }},
        {"connect_timeout", [](http_transport_options& o) { o.connect_timeout = -1ms; }},
        {"total_timeout", [](http_transport_options& o) { o.total_timeout = 0ms; }},
        {"total_timeout", [](http_transport_options& o) { o.total_timeout = -5s; }},
        {"max_body_bytes", [](http_transport_options& o) { o.max_body_bytes = 0; }},
        {"max_header_count", [](http_transport_options& o) { o.max_header_count = 0; }},
        {"max_header_bytes", [](http_transport_options& o) { o.max_header_bytes = 0; }},
    };
    for (const row& r : table) {
        INFO(r.option);
        http_transport_options o;
        r.spoil(o);
        const auto e = devflow_test::expect_error([&] { devflow::check_transport_options(o, "my_http"); },
                                                  errc::invalid_config);
        CHECK(std::string(e.what()) == "my_http: " + std::string(r.option) + " must be positive");
    }
    CHECK_NOTHROW(devflow::require_positive_option("my_http", "read_timeout", 1ms));
    const auto e = devflow_test::expect_error(
        [] { devflow::require_positive_option("my_http", "read_timeout", 0ms); }, errc::invalid_config);
    CHECK(std::string(e.what()) == "my_http: read_timeout must be positive");
    devflow_test::expect_error([] { devflow::require_positive_option("my_http", "cap", std::size_t{0}); },
                               errc::invalid_config);
}

TEST_CASE("check_transport_options refuses text settings holding a line break or a NUL byte",
          "[http_transport]") {
    for (const std::string& bad :
         {std::string("a\r\nX-Injected: 1"), std::string("a\n"), std::string("a\0b", 3)}) {
        for (const char* option : {"proxy", "ca_file", "ca_dir", "user_agent"}) {
            INFO(option);
            http_transport_options o;
            const std::string_view name = option;
            std::string& field = name == "proxy"     ? o.proxy
                                 : name == "ca_file" ? o.ca_file
                                 : name == "ca_dir"  ? o.ca_dir
                                                     : o.user_agent;
            field = bad;
            const auto e = devflow_test::expect_error(
                [&] { devflow::check_transport_options(o, "my_http"); }, errc::invalid_config);
            CHECK(std::string(e.what()) == "my_http: " + std::string(option) +
                                               " holds a line break or a NUL byte");
        }
    }
}

// ---------------------------------------------------------------- answers

TEST_CASE("append_wiping appends in place while there is room and at least doubles when not",
          "[http_transport]") {
    std::string buffer;
    buffer.reserve(64);
    const char* const first = buffer.data();
    devflow::append_wiping(buffer, "CANARY-");
    devflow::append_wiping(buffer, "");
    devflow::append_wiping(buffer, "part-two");
    CHECK(buffer == "CANARY-part-two");
    CHECK(buffer.data() == first);  // no new buffer while it fits

    const std::size_t before = buffer.capacity();
    const std::string big(before, 'x');
    devflow::append_wiping(buffer, big);
    CHECK(buffer == "CANARY-part-two" + big);
    CHECK(buffer.capacity() >= 2 * before);
    // That the old buffer is wiped before it is freed is proven in
    // tests/memory/freed_memory_test.cpp, which watches the heap.
}

TEST_CASE("capped_body keeps a body up to max_body_bytes and refuses the chunk that passes it",
          "[http_transport]") {
    http_transport_options o;
    o.max_body_bytes = 10;
    devflow::capped_body body(o);
    CHECK(body.admits(10));
    CHECK_FALSE(body.admits(11));
    CHECK(body.append("CANARY"));
    CHECK(body.append(""));
    CHECK(body.append("1234"));
    CHECK(body.size() == 10);
    CHECK_FALSE(body.append("5"));
    CHECK(body.size() == 10);  // nothing of the refused chunk is kept
    const devflow::secret taken = body.take();
    CHECK(taken.reveal() == "CANARY1234");
    CHECK(body.size() == 0);

    devflow::capped_body other(o);
    CHECK_FALSE(other.append("CANARY-more-than-ten"));
    CHECK(other.size() == 0);
}

TEST_CASE("header_tally counts fields against max_header_count and bytes against max_header_bytes",
          "[http_transport]") {
    http_transport_options o;
    o.max_header_count = 3;
    o.max_header_bytes = 100;

    SECTION("a status line and the blank line count bytes, not fields") {
        devflow::header_tally t(o);
        CHECK(t.add(17, false));  // "HTTP/1.1 200 OK\r\n"
        CHECK(t.add(10, true));
        CHECK(t.add(10, true));
        CHECK(t.add(10, true));
        CHECK(t.add(2, false));  // "\r\n"
        CHECK_FALSE(t.exceeded());
        CHECK_FALSE(t.add(10, true));  // the fourth field
        CHECK(t.exceeded() == response_cap::header_count);
        CHECK_FALSE(t.add(1, false));  // once passed, every line is refused
    }
    SECTION("the line that takes the bytes past the cap is refused") {
        devflow::header_tally t(o);
        CHECK(t.add(60, false));
        CHECK(t.add(40, true));  // exactly 100
        CHECK_FALSE(t.add(1, false));
        CHECK(t.exceeded() == response_cap::header_bytes);
    }
    SECTION("a parsed field counts as `name: value` and CRLF") {
        devflow::header_tally t(o);
        CHECK(t.add_field(std::string(40, 'n'), std::string(56, 'v')));  // 100 bytes
        CHECK_FALSE(t.add_field("", ""));                                // 4 more
        CHECK(t.exceeded() == response_cap::header_bytes);
    }
}

TEST_CASE("trim_header_value and response_header make a field as http_response holds it",
          "[http_transport]") {
    CHECK(devflow::trim_header_value(" \tapplication/json \t\r\n") == "application/json");
    CHECK(devflow::trim_header_value("a b") == "a b");
    CHECK(devflow::trim_header_value(" \t\r\n").empty());
    CHECK(devflow::trim_header_value("").empty());
    static_assert(devflow::trim_header_value("  x  ") == "x"sv);

    const devflow::http_header h = devflow::response_header(" Content-Type ", "  Application/JSON \r\n");
    CHECK(h.name == "content-type");
    CHECK(h.value.reveal() == "Application/JSON");  // values keep their case
    const devflow::http_header empty = devflow::response_header("X-Empty", " \r\n");
    CHECK(empty.name == "x-empty");
    CHECK(empty.value.empty());
}

// ---------------------------------------------------------------- failures

TEST_CASE("transport_failure builds the answer to a request that got none", "[http_transport]") {
    const devflow::http_response r =
        devflow::transport_failure(transport_error::dns, "my_http: could not resolve auth.example");
    CHECK_FALSE(static_cast<bool>(r));
    CHECK(r.status == 0);
    CHECK(r.transport == transport_error::dns);
    CHECK(r.transport_message == "my_http: could not resolve auth.example");
    CHECK(r.headers.empty());
    CHECK(r.body.empty());

    // The test double is the same function, with a refused connection by default.
    const devflow::http_response d = devflow::testing::transport_failure();
    CHECK(d.transport == transport_error::connect);
    CHECK(d.transport_message == "connection refused");
    CHECK(devflow::testing::transport_failure(transport_error::timeout).transport == transport_error::timeout);
    CHECK(devflow::testing::transport_failure(transport_error::tls, "bad certificate").transport_message ==
          "bad certificate");
}

TEST_CASE("too_large_failure names the cap and its value and nothing the server sent",
          "[http_transport]") {
    http_transport_options o;
    o.max_body_bytes = 1234;
    o.max_header_count = 7;
    o.max_header_bytes = 4096;
    struct row {
        response_cap cap;
        const char* message;
    };
    for (const row& r :
         {row{response_cap::body, "my_http: the response body is larger than max_body_bytes (1234 bytes)"},
          row{response_cap::header_count,
              "my_http: the response has more header lines than max_header_count (7)"},
          row{response_cap::header_bytes,
              "my_http: the response headers are larger than max_header_bytes (4096 bytes)"}}) {
        const devflow::http_response f = devflow::too_large_failure("my_http", r.cap, o);
        CHECK_FALSE(static_cast<bool>(f));
        CHECK(f.status == 0);
        CHECK(f.transport == transport_error::too_large);
        CHECK(f.transport_message == r.message);
    }
}
