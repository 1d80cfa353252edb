// The shipped transports, devflow::curl_http, devflow::httplib_http and
// devflow::asio_http (blocking, through support/asio_blocking_http.hpp),
// against real sockets on 127.0.0.1: the same scenarios run against each.
// Servers are cpp-httplib servers in a background thread (support/); the
// timeouts are short, so each case takes well under two seconds.
#include "catch.hpp"
#if defined(DEVFLOW_CATCH_V3)
#include <catch2/catch_template_test_macros.hpp>
#endif

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/concepts.hpp>
#include <devflow/error.hpp>

#include "support/asio_blocking_http.hpp"
#include "support/local_http_server.hpp"
#include "support/test_certificate.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
using devflow::http_method;
using devflow::http_request;
using devflow::http_response;
using devflow::transport_error;
using devflow_test::local_http_server;
using devflow_test::raw_port;

/// Every transport the scenarios run against.
#define DEVFLOW_TEST_TRANSPORTS devflow::curl_http, devflow::httplib_http, devflow_test::asio_blocking_http

static_assert(devflow::http_client<devflow::curl_http>);
static_assert(devflow::http_client<devflow::httplib_http>);
static_assert(!std::is_copy_constructible_v<devflow::curl_http>);
static_assert(!std::is_copy_constructible_v<devflow::httplib_http>);
static_assert(std::is_nothrow_move_constructible_v<devflow::curl_http>);
static_assert(std::is_nothrow_move_constructible_v<devflow::httplib_http>);

/// A marker that stands for a credential: it must never show in a message.
constexpr std::string_view canary = "CANARY-7f3a9c-secret";

/// The settings the scenarios vary, mapped onto each adapter's own options.
struct test_settings {
    std::chrono::milliseconds timeout = 5s;
    std::size_t max_body = std::size_t{1} << 20;
    std::string ca_file;
    std::string ca_dir;
};

template <class Http>
Http make(const test_settings& s);

template <>
devflow::curl_http make<devflow::curl_http>(const test_settings& s) {
    devflow::curl_http::options o;
    o.connect_timeout = s.timeout;
    o.total_timeout = s.timeout;
    o.max_body_bytes = s.max_body;
    o.ca_file = s.ca_file;
    o.ca_dir = s.ca_dir;
    return devflow::curl_http{o};
}

template <>
devflow::httplib_http make<devflow::httplib_http>(const test_settings& s) {
    devflow::httplib_http::options o;
    o.connect_timeout = s.timeout;
    o.read_timeout = s.timeout;
    o.write_timeout = s.timeout;
    o.max_body_bytes = s.max_body;
    o.ca_file = s.ca_file;
    o.ca_dir = s.ca_dir;
    return devflow::httplib_http{o};
}

template <>
devflow_test::asio_blocking_http make<devflow_test::asio_blocking_http>(const test_settings& s) {
    devflow::asio_http_options o;
    o.connect_timeout = s.timeout;
    o.total_timeout = s.timeout;
    o.max_body_bytes = s.max_body;
    o.ca_file = s.ca_file;
    o.ca_dir = s.ca_dir;
    return devflow_test::asio_blocking_http{o};
}

/// True for a transport that keeps its connection between requests.
template <class Http>
constexpr bool reuses_connections = !std::is_same_v<Http, devflow_test::asio_blocking_http>;

/// A token-style request that carries the canary in its Authorization header
/// and its body.
http_request secret_post(std::string url) {
    http_request r;
    r.method = http_method::post;
    r.url = std::move(url);
    r.headers.push_back({"Content-Type", devflow::secret("application/x-www-form-urlencoded")});
    r.headers.push_back({"Accept", devflow::secret("application/json")});
    r.headers.push_back({"Authorization", devflow::secret("Basic " + std::string(canary))});
    r.body = devflow::secret("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
                             "&device_code=" + std::string(canary) + "&client_id=cli");
    return r;
}

http_request get(std::string url) {
    http_request r;
    r.method = http_method::get;
    r.url = std::move(url);
    return r;
}

/// The response header whose name is exactly `name` (no case folding), or null.
const devflow::secret* exact_header(const http_response& r, std::string_view name) {
    for (const auto& h : r.headers)
        if (h.name == name) return &h.value;
    return nullptr;
}

bool all_lower_case(const http_response& r) {
    for (const auto& h : r.headers)
        for (char c : h.name)
            if (std::isupper(static_cast<unsigned char>(c))) return false;
    return true;
}

/// Checks a failed answer: no status, no body, the expected kind, and a
/// message that says something without repeating any secret.
void check_failure(const http_response& r, transport_error expected) {
    CHECK_FALSE(static_cast<bool>(r));
    CHECK(r.transport == expected);
    CHECK(r.status == 0);
    CHECK(r.body.empty());
    CHECK_FALSE(r.transport_message.empty());
    CHECK(r.transport_message.find(canary) == std::string::npos);
    CHECK(r.transport_message.find("Basic") == std::string::npos);
    CHECK(r.transport_message.find("device_code") == std::string::npos);
}

/// True when the system resolver finds `host` (some resolvers answer every name).
bool resolves(const char* host) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host, nullptr, &hints, &found);
    if (found != nullptr) ::freeaddrinfo(found);
    return rc == 0;
}

}  // namespace

TEMPLATE_TEST_CASE("A POST arrives with its form body and headers as sent and the answer comes back whole",
                   "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.status = 201;
            res.set_header("X-Reply-Header", "Mixed Case Value");
            res.set_content(R"({"access_token":"at","token_type":"Bearer"})", "application/json");
        });
    });
    auto http = make<TestType>({});
    const http_request request = secret_post(server.url("/token?tenant=a%20b&x=%2B"));

    const http_response r = http.send(request);

    REQUIRE(static_cast<bool>(r));
    CHECK(r.transport == transport_error::none);
    CHECK(r.transport_message.empty());
    CHECK(r.status == 201);
    CHECK(r.body.reveal() == R"({"access_token":"at","token_type":"Bearer"})");
    CHECK(all_lower_case(r));
    REQUIRE(exact_header(r, "x-reply-header") != nullptr);
    CHECK(exact_header(r, "x-reply-header")->reveal() == "Mixed Case Value");
    REQUIRE(exact_header(r, "content-type") != nullptr);
    CHECK(exact_header(r, "content-type")->reveal() == "application/json");
    CHECK(r.header("X-REPLY-HEADER") != nullptr);

    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].target == "/token?tenant=a%20b&x=%2B");
    CHECK(seen[0].body == request.body.reveal());
    CHECK(seen[0].header("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(seen[0].header("Accept") == "application/json");
    CHECK(seen[0].header("Authorization") == "Basic " + std::string(canary));
    CHECK(seen[0].header_count("Authorization") == 1);
    CHECK(seen[0].header_count("Expect") == 0);
    CHECK(seen[0].header("Content-Length") == std::to_string(request.body.size()));
}

TEMPLATE_TEST_CASE("The User-Agent names devflow and its version", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Get("/ua", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("ok", "text/plain");
        });
    });
    auto http = make<TestType>({});
    CHECK(http.settings().user_agent.rfind("devflow/" DEVFLOW_VERSION_STRING " ", 0) == 0);

    const http_response r = http.send(get(server.url("/ua")));

    REQUIRE(static_cast<bool>(r));
    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].header("User-Agent") == http.settings().user_agent);
    CHECK(seen[0].header_count("User-Agent") == 1);
}

TEMPLATE_TEST_CASE("A GET sends no body and gets the document", "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Get("/.well-known/openid-configuration", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"issuer":"http://127.0.0.1"})", "application/json");
        });
    });
    auto http = make<TestType>({});

    const http_response r = http.send(get(server.url("/.well-known/openid-configuration")));

    REQUIRE(static_cast<bool>(r));
    CHECK(r.status == 200);
    CHECK(r.body.reveal() == R"({"issuer":"http://127.0.0.1"})");
    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "GET");
    CHECK(seen[0].body.empty());
}

TEMPLATE_TEST_CASE("A 302 redirect comes back as the answer and is not followed", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.status = 302;
            res.set_header("Location", "/elsewhere");
        });
        s.Post("/elsewhere", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("followed", "text/plain");
        });
        s.Get("/elsewhere", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("followed", "text/plain");
        });
    });
    auto http = make<TestType>({});

    const http_response r = http.send(secret_post(server.url("/token")));

    REQUIRE(static_cast<bool>(r));
    CHECK(r.status == 302);
    REQUIRE(r.header("location") != nullptr);
    CHECK(r.header("location")->reveal() == "/elsewhere");
    CHECK(r.body.reveal() != "followed");
    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].target == "/token");
}

TEMPLATE_TEST_CASE("A body up to the cap is accepted and a longer one is too_large", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    constexpr std::size_t cap = 1024;
    local_http_server server([](httplib::Server& s) {
        s.Get("/exact", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(cap, 'a'), "text/plain");
        });
        s.Get("/over", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(canary) + std::string(cap + 1 - canary.size(), 'b'),
                            "text/plain");
        });
        s.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
            // No Content-Length: the cap must hold while the body streams in.
            res.set_chunked_content_provider("text/plain", [](std::size_t offset, httplib::DataSink& sink) {
                const std::string chunk = std::string(canary) + std::string(512 - canary.size(), 'c');
                if (offset < 3 * 512) {
                    sink.write(chunk.data(), chunk.size());
                } else {
                    sink.done();
                }
                return true;
            });
        });
    });
    test_settings settings;
    settings.max_body = cap;
    auto http = make<TestType>(settings);

    SECTION("exactly the cap") {
        const http_response r = http.send(get(server.url("/exact")));
        REQUIRE(static_cast<bool>(r));
        CHECK(r.body.size() == cap);
    }
    SECTION("one byte over the cap with a Content-Length") {
        const http_response r = http.send(get(server.url("/over")));
        check_failure(r, transport_error::too_large);
        CHECK(r.transport_message.find("max_body_bytes") != std::string::npos);
    }
    SECTION("over the cap in chunks without a Content-Length") {
        const http_response r = http.send(get(server.url("/chunked")));
        check_failure(r, transport_error::too_large);
        CHECK(r.transport_message.find("max_body_bytes") != std::string::npos);
    }
    SECTION("the transport still works after a refused body") {
        check_failure(http.send(get(server.url("/over"))), transport_error::too_large);
        const http_response r = http.send(get(server.url("/exact")));
        REQUIRE(static_cast<bool>(r));
        CHECK(r.body.size() == cap);
    }
}

TEMPLATE_TEST_CASE("A server that accepts but never answers gives timeout", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    raw_port silent(raw_port::mode::silent);
    test_settings settings;
    settings.timeout = 300ms;
    auto http = make<TestType>(settings);

    const auto started = std::chrono::steady_clock::now();
    const http_response r = http.send(secret_post(silent.url("http", "/token")));
    const auto elapsed = std::chrono::steady_clock::now() - started;

    check_failure(r, transport_error::timeout);
    CHECK(elapsed < 2s);
}

TEMPLATE_TEST_CASE("A port where nothing listens gives connect", "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    raw_port refusing(raw_port::mode::refusing);
    auto http = make<TestType>({});

    const http_response r = http.send(secret_post(refusing.url("http", "/token")));

    check_failure(r, transport_error::connect);
}

TEMPLATE_TEST_CASE("A host name that does not resolve gives dns", "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    test_settings settings;
    settings.timeout = 1500ms;
    auto http = make<TestType>(settings);

    const http_response r = http.send(secret_post("http://no-such-host.invalid/token"));

    if (resolves("no-such-host.invalid")) {
        // This machine's resolver answers every name: the failure comes later.
        CHECK_FALSE(static_cast<bool>(r));
        CHECK(r.transport_message.find(canary) == std::string::npos);
    } else {
        check_failure(r, transport_error::dns);
        CHECK(r.transport_message.find("no-such-host.invalid") != std::string::npos);
    }
}

TEMPLATE_TEST_CASE("https to a plain http server fails in the TLS handshake", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("{}", "application/json");
        });
    });
    test_settings settings;
    settings.timeout = 1500ms;
    auto http = make<TestType>(settings);
    const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/token";

    const http_response r = http.send(secret_post(url));

    check_failure(r, transport_error::tls);
}

TEMPLATE_TEST_CASE("Only the final header block follows an interim 100 Continue", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    devflow_test::canned_server server(
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Final: yes\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    auto http = make<TestType>({});

    const http_response r = http.send(get(server.url("/x")));

    REQUIRE(static_cast<bool>(r));
    CHECK(r.status == 200);
    CHECK(r.body.reveal() == "{}");
    REQUIRE(exact_header(r, "x-final") != nullptr);
    CHECK(exact_header(r, "x-final")->reveal() == "yes");
    CHECK(r.headers.size() == 4);
}

TEMPLATE_TEST_CASE("An interim 103 answer with headers is never taken for the final answer",
                   "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    devflow_test::canned_server server(
        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Final: yes\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    auto http = make<TestType>({});

    const http_response r = http.send(get(server.url("/x")));

    if constexpr (!std::is_same_v<TestType, devflow::httplib_http>) {
        // libcurl and asio_http read past it: only the final block's headers are kept.
        REQUIRE(static_cast<bool>(r));
        CHECK(r.status == 200);
        CHECK(r.body.reveal() == "{}");
        CHECK(r.header("link") == nullptr);
        CHECK(exact_header(r, "x-final") != nullptr);
    } else {
        // cpp-httplib 0.11 cannot: the adapter reports it instead of a bogus answer.
        check_failure(r, transport_error::other);
        CHECK(r.transport_message.find("103") != std::string::npos);
    }
}

TEMPLATE_TEST_CASE("Consecutive requests reuse one connection", "[transport]", devflow::curl_http,
                   devflow::httplib_http) {
    local_http_server server([](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("{}", "application/json");
        });
    });
    auto http = make<TestType>({});

    REQUIRE(static_cast<bool>(http.send(secret_post(server.url("/token")))));
    REQUIRE(static_cast<bool>(http.send(secret_post(server.url("/token")))));
    REQUIRE(static_cast<bool>(http.send(get(server.url("/token")))));  // 404, same connection

    const auto seen = server.requests();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].remote_port == seen[1].remote_port);
    CHECK(seen[1].remote_port == seen[2].remote_port);
}

TEMPLATE_TEST_CASE("A moved transport keeps working", "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Get("/x", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("x", "text/plain");
        });
    });
    auto first = make<TestType>({});
    REQUIRE(static_cast<bool>(first.send(get(server.url("/x")))));

    TestType second = std::move(first);
    const http_response r = second.send(get(server.url("/x")));

    REQUIRE(static_cast<bool>(r));
    CHECK(r.body.reveal() == "x");
}

TEMPLATE_TEST_CASE("A header with a line break is refused before anything is sent", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    local_http_server server([](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("{}", "application/json");
        });
    });
    auto http = make<TestType>({});
    http_request request = secret_post(server.url("/token"));

    SECTION("in a value") {
        request.headers.push_back({"X-Note", devflow::secret("a\r\nX-Injected: 1")});
    }
    SECTION("in a name") {
        request.headers.push_back({"X-Note\r\nX-Injected", devflow::secret("1")});
    }
    const http_response r = http.send(request);

    check_failure(r, transport_error::other);
    CHECK(server.requests().empty());
}

TEMPLATE_TEST_CASE("Only plain http and https URLs are accepted", "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    raw_port silent(raw_port::mode::silent);
    test_settings settings;
    settings.timeout = 1s;
    auto http = make<TestType>(settings);

    check_failure(http.send(secret_post(silent.url("ftp", "/token"))), transport_error::other);
    check_failure(http.send(secret_post("file:///etc/passwd")), transport_error::other);
    check_failure(http.send(secret_post("http://127.0.0.1/a b")), transport_error::other);
    check_failure(http.send(secret_post("http://user:" + std::string(canary) + "@127.0.0.1:" +
                                        std::to_string(silent.port()) + "/token")),
                  transport_error::other);
    check_failure(http.send(secret_post("127.0.0.1:" + std::to_string(silent.port()) + "/token")),
                  transport_error::other);
}

TEMPLATE_TEST_CASE("A self-signed certificate is rejected by default and trusted through its CA",
                   "[transport][tls]", DEVFLOW_TEST_TRANSPORTS) {
    const devflow_test::test_certificate cert("IP:127.0.0.1");
    local_http_server server(cert.cert_file(), cert.key_file(), [](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"access_token":"at"})", "application/json");
        });
    });
    test_settings settings;
    settings.timeout = 1500ms;

    SECTION("the system CAs do not trust it") {
        auto http = make<TestType>(settings);
        check_failure(http.send(secret_post(server.url("/token"))), transport_error::tls);
        CHECK(server.requests().empty());
    }
    SECTION("a CA file that holds it") {
        settings.ca_file = cert.cert_file();
        auto http = make<TestType>(settings);
        const http_response r = http.send(secret_post(server.url("/token")));
        REQUIRE(static_cast<bool>(r));
        CHECK(r.status == 200);
        CHECK(r.body.reveal() == R"({"access_token":"at"})");
        REQUIRE(server.requests().size() == 1);
        CHECK(server.requests()[0].header("Authorization") == "Basic " + std::string(canary));
    }
    SECTION("a hashed CA directory that holds it") {
        settings.ca_dir = cert.ca_dir();
        auto http = make<TestType>(settings);
        const http_response r = http.send(secret_post(server.url("/token")));
        REQUIRE(static_cast<bool>(r));
        CHECK(r.status == 200);
    }
    SECTION("a CA file that does not exist") {
        settings.ca_file = cert.ca_dir() + "/missing.pem";
        auto http = make<TestType>(settings);
        check_failure(http.send(secret_post(server.url("/token"))), transport_error::tls);
        CHECK(server.requests().empty());
    }
}

TEMPLATE_TEST_CASE("A trusted certificate for another host name is rejected", "[transport][tls]",
                   DEVFLOW_TEST_TRANSPORTS) {
    const devflow_test::test_certificate cert("DNS:other-host.invalid");
    local_http_server server(cert.cert_file(), cert.key_file(), [](httplib::Server& s) {
        s.Post("/token", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("{}", "application/json");
        });
    });
    test_settings settings;
    settings.timeout = 1500ms;
    settings.ca_file = cert.cert_file();
    auto http = make<TestType>(settings);

    check_failure(http.send(secret_post(server.url("/token"))), transport_error::tls);
    CHECK(server.requests().empty());
}

TEMPLATE_TEST_CASE("Settings without a positive timeout or body cap are refused", "[transport]",
                   DEVFLOW_TEST_TRANSPORTS) {
    test_settings settings;
    SECTION("zero timeout") { settings.timeout = 0ms; }
    SECTION("zero body cap") { settings.max_body = 0; }
    try {
        (void)make<TestType>(settings);
        FAIL("no devflow::error was thrown");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::invalid_config);
    }
}

TEMPLATE_TEST_CASE("Answers just under every cap are accepted again and again on one kept-alive connection",
                   "[transport]", DEVFLOW_TEST_TRANSPORTS) {
    // About 60 KiB of header fields (90 of them) and a body 1 KiB under the
    // 1 MiB cap, not compressible: httplib_http's connection meter must take
    // each request's bytes alone (a baseline per request on a reused
    // connection) and leave room for the TLS handshake and records.
    const auto routes = [](httplib::Server& s) {
        s.Get("/big", [](const httplib::Request&, httplib::Response& res) {
            for (int i = 0; i < 90; ++i)
                res.set_header("X-Pad-" + std::to_string(i), std::string(650, 'p'));
            res.set_content(std::string((std::size_t{1} << 20) - 1024, 'b'), "application/octet-stream");
        });
    };
    const auto check = [](auto& http, const local_http_server& server) {
        for (int i = 0; i < 5; ++i) {  // cpp-httplib's server serves 5 requests per connection
            const http_response r = http.send(get(server.url("/big")));
            INFO("request " << i << ": " << r.transport_message);
            REQUIRE(static_cast<bool>(r));
            CHECK(r.status == 200);
            CHECK(r.body.size() == (std::size_t{1} << 20) - 1024);
        }
        const auto seen = server.requests();
        REQUIRE(seen.size() == 5);
        if (reuses_connections<std::decay_t<decltype(http)>>)
            for (const auto& s : seen) CHECK(s.remote_port == seen[0].remote_port);
    };
    SECTION("http") {
        local_http_server server(routes);
        auto http = make<TestType>({});
        check(http, server);
    }
    SECTION("https") {
        const devflow_test::test_certificate cert("IP:127.0.0.1");
        local_http_server server(cert.cert_file(), cert.key_file(), routes);
        test_settings settings;
        settings.ca_file = cert.cert_file();
        auto http = make<TestType>(settings);
        check(http, server);
    }
}
