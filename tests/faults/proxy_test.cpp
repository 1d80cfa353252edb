// Proxies and loopback (issue 9, item 6): a request to a loopback host never
// goes through a proxy, whatever the environment says. The process
// environment points every proxy variable libcurl reads at a recording
// server of ours; the request must reach the real server directly and the
// "proxy" must see no connection at all.
#include "canary.hpp"
#include "catch.hpp"

#include "hostile_server.hpp"
#include "transports.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace devflow_faults;
using devflow::transport_error;

namespace {

/// Sets or clears environment variables for one scope, and puts back what
/// was there before when it ends.
class scoped_environment {
public:
    scoped_environment() = default;
    scoped_environment(const scoped_environment&) = delete;
    scoped_environment& operator=(const scoped_environment&) = delete;
    ~scoped_environment() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second)
                ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else
                ::unsetenv(it->first.c_str());
        }
    }

    /// Sets `name` to `value`.
    void set(const std::string& name, const std::string& value) {
        remember(name);
        ::setenv(name.c_str(), value.c_str(), 1);
    }

    /// Removes `name`.
    void clear(const std::string& name) {
        remember(name);
        ::unsetenv(name.c_str());
    }

private:
    void remember(const std::string& name) {
        const char* old = std::getenv(name.c_str());
        saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    }

    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

constexpr std::string_view token_answer =
    R"({"access_token":"CANARY-proxy-access","token_type":"Bearer","expires_in":300})";

std::string token_reply() {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(token_answer.size()) + "\r\nConnection: close\r\n\r\n" + std::string(token_answer);
}

devflow::http_request refresh_request(std::string url) {
    devflow::http_request r;
    r.method = devflow::http_method::post;
    r.url = std::move(url);
    r.headers.push_back({"content-type", devflow::secret{"application/x-www-form-urlencoded"}});
    r.body = devflow::secret{
        "grant_type=refresh_token&refresh_token=CANARY-proxy-refresh&client_id=devflow-cli"};
    return r;
}

/// Every variable libcurl reads a proxy from (HTTP_PROXY too, which it
/// ignores on purpose: a future version that did not would be caught).
constexpr const char* proxy_variables[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                           "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};

/// Every proxy variable set to `proxy_url`; no_proxy cleared (a developer's
/// own no_proxy=localhost would hide the fault).
void point_every_proxy_variable_at(scoped_environment& env, const std::string& proxy_url) {
    for (const char* name : proxy_variables) env.set(name, proxy_url);
    env.clear("no_proxy");
    env.clear("NO_PROXY");
}

/// Sends one request to `host` (a loopback name) on the real server with the
/// proxy variables set, and checks that it went there directly.
template <class Http>
void check_loopback_goes_direct(const std::string& scheme, const std::string& host) {
    // The "proxy" answers like the real server, so that a request sent through
    // it would look successful: only where it arrived tells them apart.
    hostile_server proxy([](connection& c) {
        c.read_request();
        c.send(token_reply());
    });
    hostile_server server([scheme](connection& c) {
        if (scheme == "https") {
            c.read_some(1000ms);  // a ClientHello; a plain 400 fails the handshake
            c.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        c.read_request();
        c.send(token_reply());
    });
    scoped_environment env;
    point_every_proxy_variable_at(env, "http://127.0.0.1:" + std::to_string(proxy.port()));

    Http http = make_transport<Http>();
    const std::string url = scheme + "://" + host + ":" + std::to_string(server.port()) + "/token";
    const devflow::http_response r = http.send(refresh_request(url));
    devflow_test::echo_captured("transport", r.transport_message);
    INFO(url << ": status " << r.status << ", " << r.transport_message);
    CHECK(devflow_test::leak_free(r.transport_message));

    CHECK(proxy.connections() == 0);
    CHECK(server.connections() == 1);
    if (scheme == "http") {
        CHECK(r.status == 200);
        const auto seen = server.requests();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].rfind("POST /token HTTP/1.1\r\n", 0) == 0);  // origin form: not a proxy request
    } else {
        CHECK(r.transport == transport_error::tls);
    }
}

/// Clears every proxy variable, no_proxy included (a developer's own would
/// change what these tests see).
void clear_every_proxy_variable(scoped_environment& env) {
    for (const char* name : proxy_variables) env.clear(name);
    env.clear("no_proxy");
    env.clear("NO_PROXY");
}

/// Where a request to `host` on the real server went, given the settings.
struct routed {
    int via_proxy = 0;           ///< requests the proxy saw
    int direct = 0;              ///< requests the real server saw
    std::string proxy_request;   ///< the first one the proxy saw
    devflow::http_response response;
};

/// Sends one http request to `host` (which must reach 127.0.0.1) on a real
/// server, with a recording proxy standing by, and says where it went. The
/// proxy is given to the transport as its `proxy` option when
/// `explicit_proxy`, else through the environment.
template <class Http>
routed route(const std::string& host, bool explicit_proxy) {
    hostile_server proxy([](connection& c) {
        c.read_request();
        c.send(token_reply());
    });
    hostile_server server([](connection& c) {
        c.read_request();
        c.send(token_reply());
    });
    scoped_environment env;
    clear_every_proxy_variable(env);
    const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    if (!explicit_proxy) point_every_proxy_variable_at(env, proxy_url);

    Http http = [&] {
        if (!explicit_proxy) return make_transport<Http>();
        auto settings = make_transport<Http>().settings();
        settings.proxy = proxy_url;
        return Http{settings};
    }();
    routed result;
    const std::string url = "http://" + host + ":" + std::to_string(server.port()) + "/token";
    result.response = http.send(refresh_request(url));
    devflow_test::echo_captured("transport", result.response.transport_message);
    const auto at_proxy = proxy.requests();
    result.via_proxy = static_cast<int>(at_proxy.size());
    if (!at_proxy.empty()) result.proxy_request = at_proxy.front();
    result.direct = static_cast<int>(server.requests().size());
    return result;
}

template <class Http>
void check_loopback_never_proxied() {
    SECTION("http to 127.0.0.1") { check_loopback_goes_direct<Http>("http", "127.0.0.1"); }
    SECTION("http to localhost") { check_loopback_goes_direct<Http>("http", "localhost"); }
    SECTION("https to 127.0.0.1") { check_loopback_goes_direct<Http>("https", "127.0.0.1"); }
}

}  // namespace

TEST_CASE("Proxies and loopback: curl_http never sends a loopback request to the environment's proxy",
          "[faults]") {
    check_loopback_never_proxied<devflow::curl_http>();
}

TEST_CASE("Proxies and loopback: httplib_http never sends a loopback request to the environment's proxy",
          "[faults]") {
    check_loopback_never_proxied<devflow::httplib_http>();
}

// 127.1 reaches 127.0.0.1 without DNS, but is not one of the loopback
// spellings of devflow's rule (a canonical dotted quad): a proxy applies to it.

TEST_CASE("Proxies and loopback: the proxy option carries other hosts and never a loopback one",
          "[faults]") {
    SECTION("curl_http, another host") {
        const routed r = route<devflow::curl_http>("127.1", true);
        CHECK(r.response.status == 200);
        CHECK(r.via_proxy == 1);
        CHECK(r.direct == 0);
        CHECK(r.proxy_request.rfind("POST http://127.0.0.1:", 0) == 0);  // libcurl writes 127.1 out
    }
    SECTION("curl_http, loopback") {
        const routed r = route<devflow::curl_http>("127.0.0.1", true);
        CHECK(r.response.status == 200);
        CHECK(r.via_proxy == 0);
        CHECK(r.direct == 1);
    }
    SECTION("httplib_http, another host") {
        const routed r = route<devflow::httplib_http>("127.1", true);
        CHECK(r.response.status == 200);
        CHECK(r.via_proxy == 1);
        CHECK(r.direct == 0);
        CHECK(r.proxy_request.rfind("POST http://127.1:", 0) == 0);
    }
    SECTION("httplib_http, loopback") {
        const routed r = route<devflow::httplib_http>("localhost", true);
        CHECK(r.response.status == 200);
        CHECK(r.via_proxy == 0);
        CHECK(r.direct == 1);
    }
}

TEST_CASE("Proxies and loopback: for other hosts curl_http follows the proxy environment and httplib_http "
          "ignores it",
          "[faults]") {
    SECTION("curl_http") {
        const routed r = route<devflow::curl_http>("127.1", false);
        CHECK(r.via_proxy == 1);
        CHECK(r.direct == 0);
    }
    SECTION("httplib_http") {
        const routed r = route<devflow::httplib_http>("127.1", false);
        CHECK(r.response.status == 200);
        CHECK(r.via_proxy == 0);
        CHECK(r.direct == 1);
    }
}

TEST_CASE("Proxies and loopback: httplib_http takes a proxy as http://host:port or host:port only",
          "[faults]") {
    const auto with_proxy = [](std::string proxy) {
        auto settings = make_transport<devflow::httplib_http>().settings();
        settings.proxy = std::move(proxy);
        return devflow::httplib_http{settings};
    };
    CHECK_NOTHROW(with_proxy("http://proxy.example:3128"));
    CHECK_NOTHROW(with_proxy("proxy.example:3128"));
    CHECK_NOTHROW(with_proxy("[::1]:3128"));
    for (const char* bad : {"proxy.example", "https://proxy.example:3128", "socks5://proxy.example:1080",
                            "http://user:CANARY-password@proxy.example:3128", "http://proxy.example:3128/path",
                            "http://proxy.example:0", "http://proxy.example:99999"}) {
        INFO(bad);
        devflow_test::expect_error([&] { with_proxy(bad); }, devflow::errc::invalid_config);
    }
}

TEST_CASE("Proxies and loopback: a proxy answering CONNECT with endless header lines is cut off",
          "[faults]") {
    // cpp-httplib reads the proxy's answer while it holds the lock that
    // Client::stop() needs: httplib_http's meter cuts the connection itself.
    hostile_server proxy([](connection& c) {
        c.read_request();
        if (!c.send("HTTP/1.1 200 Connection established\r\n")) return;
        std::string lines;
        for (int i = 0; i < 1024; ++i) lines += "X-A: b\r\n";
        const auto until = std::chrono::steady_clock::now() + 3s;
        while (std::chrono::steady_clock::now() < until)
            if (!c.send(lines)) return;
    });
    scoped_environment env;
    clear_every_proxy_variable(env);
    const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    const std::string url = "https://127.1:" + std::to_string(proxy.port()) + "/token";  // not loopback

    const auto timed_send = [&](auto&& http) {
        const auto started = std::chrono::steady_clock::now();
        devflow::http_response r = http.send(refresh_request(url));
        const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        devflow_test::echo_captured("transport", r.transport_message);
        INFO("after " << took << " s: " << r.transport_message);
        // Well before the proxy's 3 s of lines end; https, so loading the
        // system CA store may take a few hundred ms (as in T21).
        CHECK(took <= 2.0);
        CHECK(devflow_test::leak_free(r.transport_message));
        return r;
    };
    SECTION("curl_http") {
        auto settings = make_transport<devflow::curl_http>().settings();
        settings.proxy = proxy_url;
        // libcurl reads at most 16 KiB of a CONNECT answer's headers itself.
        CHECK(timed_send(devflow::curl_http{settings}).transport != transport_error::none);
    }
    SECTION("httplib_http") {
        auto settings = make_transport<devflow::httplib_http>().settings();
        settings.proxy = proxy_url;
        const auto r = timed_send(devflow::httplib_http{settings});
        CHECK(r.transport == transport_error::too_large);
        CHECK(r.transport_message.find("max_header_bytes") != std::string::npos);
    }
}
