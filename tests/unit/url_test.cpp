// detail/url.hpp: URL splitting, loopback hosts and the https-only rule
// (docs/design.md §3).
#include <devflow/detail/url.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <string>

using devflow::errc;
using devflow::detail::host_of;
using devflow::detail::is_loopback_host;
using devflow::detail::parse_url;
using devflow::detail::require_secure_endpoint;

TEST_CASE("parse_url splits scheme host port and path and lower-cases scheme and host", "[url]") {
    const auto p = parse_url("HTTPS://Auth.Example.COM:8443/Realms/Dev/token?x=1#f");
    REQUIRE(p);
    CHECK(p->scheme == "https");
    CHECK(p->host == "auth.example.com");
    CHECK(p->port == "8443");
    CHECK(p->path == "/Realms/Dev/token?x=1#f");

    const auto bare = parse_url("https://example.com");
    REQUIRE(bare);
    CHECK(bare->host == "example.com");
    CHECK(bare->port.empty());
    CHECK(bare->path.empty());

    const auto query = parse_url("https://example.com?a=b");
    REQUIRE(query);
    CHECK(query->host == "example.com");
    CHECK(query->path == "?a=b");
}

TEST_CASE("parse_url takes the host after the userinfo and never from the path or fragment",
          "[url]") {
    const auto userinfo = parse_url("http://127.0.0.1@evil.example:80/x");
    REQUIRE(userinfo);
    CHECK(userinfo->host == "evil.example");
    CHECK(userinfo->port == "80");

    const auto fragment = parse_url("http://evil.example#@127.0.0.1/");
    REQUIRE(fragment);
    CHECK(fragment->host == "evil.example");

    const auto path = parse_url("http://evil.example/@127.0.0.1");
    REQUIRE(path);
    CHECK(path->host == "evil.example");
}

TEST_CASE("parse_url strips the brackets of an IPv6 literal", "[url]") {
    const auto p = parse_url("http://[::1]:8080/device");
    REQUIRE(p);
    CHECK(p->host == "::1");
    CHECK(p->port == "8080");
    CHECK(p->path == "/device");

    const auto no_port = parse_url("https://[2001:DB8::1]/");
    REQUIRE(no_port);
    CHECK(no_port->host == "2001:db8::1");
    CHECK(no_port->port.empty());
}

TEST_CASE("parse_url rejects relative URLs and malformed authorities", "[url]") {
    CHECK_FALSE(parse_url(""));
    CHECK_FALSE(parse_url("example.com/token"));
    CHECK_FALSE(parse_url("/token"));
    CHECK_FALSE(parse_url("://example.com"));
    CHECK_FALSE(parse_url("https://"));
    CHECK_FALSE(parse_url("https:///path"));
    CHECK_FALSE(parse_url("https://:443/"));
    CHECK_FALSE(parse_url("https://example.com:80a/"));
    CHECK_FALSE(parse_url("https://[::1/"));
    CHECK_FALSE(parse_url("https://[::1]x/"));
    CHECK_FALSE(parse_url("ht tp://example.com"));
    CHECK_FALSE(parse_url("h_t://example.com"));
    CHECK_FALSE(parse_url("javascript:alert(1)"));
}

TEST_CASE("parse_url rejects whitespace and control characters anywhere", "[url]") {
    CHECK_FALSE(parse_url("https://example.com/a b"));
    CHECK_FALSE(parse_url("https://example.com/\n"));
    CHECK_FALSE(parse_url("https://exa\tmple.com/"));
    CHECK_FALSE(parse_url("https://example.com/\x7F"));
    CHECK_FALSE(parse_url(std::string_view("https://example.com\0.evil/", 26)));
}

TEST_CASE("is_loopback_host accepts localhost 127.0.0.0/8 and ::1", "[url]") {
    CHECK(is_loopback_host("localhost"));
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.255.255.254"));
    CHECK(is_loopback_host("127.1.2.3"));
    CHECK(is_loopback_host("::1"));
}

TEST_CASE("loopback is only localhost and canonical 127.0.0.0/8 dotted quads and ::1 "
          "(docs/security.md S5)",
          "[url][security]") {
    // Each of these passed as loopback once, then went to DNS: plain http to anywhere.
    for (const char* host : {"evil.localhost", "a.b.localhost", "127.08.0.1", "127.0.0.01",
                             "127.000.0.1", "0127.0.0.1", "0:0:0:0:0:0:0:1", "localhost.",
                             "0x7f.0.0.1", "2130706433"}) {
        INFO(host);
        CHECK_FALSE(is_loopback_host(host));
    }
    using devflow_test::expect_error;
    for (const char* url : {"http://evil.localhost/token", "http://127.08.0.1/token",
                            "http://127.0.0.01:8080/token", "http://[0:0:0:0:0:0:0:1]/token"}) {
        INFO(url);
        expect_error([&] { require_secure_endpoint("token endpoint", url, false); },
                     errc::insecure_endpoint);
    }
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.10.0.100"));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://[::1]:8080/token", false));
}

TEST_CASE("is_loopback_host refuses names that only start or end like a loopback host",
          "[url]") {
    CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
    CHECK_FALSE(is_loopback_host("localhost.evil.com"));
    CHECK_FALSE(is_loopback_host("evil-localhost"));
    CHECK_FALSE(is_loopback_host("evillocalhost"));
    CHECK_FALSE(is_loopback_host("127.evil.com"));
    CHECK_FALSE(is_loopback_host("x127.0.0.1"));
    CHECK_FALSE(is_loopback_host("128.0.0.1"));
    CHECK_FALSE(is_loopback_host("12.0.0.1"));
    CHECK_FALSE(is_loopback_host(""));
    CHECK_FALSE(is_loopback_host("::2"));
    CHECK_FALSE(is_loopback_host("[::1]"));
}

TEST_CASE("is_loopback_host refuses shortened or malformed dotted quads", "[url]") {
    CHECK_FALSE(is_loopback_host("127.1"));
    CHECK_FALSE(is_loopback_host("127.0.1"));
    CHECK_FALSE(is_loopback_host("127."));
    CHECK_FALSE(is_loopback_host("127.0.0.1."));
    CHECK_FALSE(is_loopback_host("127..0.1"));
    CHECK_FALSE(is_loopback_host("127.0.0.0.1"));
    CHECK_FALSE(is_loopback_host("127.0.0.1000"));
}

TEST_CASE("is_loopback_host refuses dotted quads whose octets pass 255", "[url]") {
    // Not an IPv4 address, so a resolver may send "127.0.0.256" to DNS (with a
    // search domain appended) instead of to the loopback interface.
    CHECK_FALSE(is_loopback_host("127.0.0.256"));
    CHECK_FALSE(is_loopback_host("127.999.999.999"));
}

TEST_CASE("require_secure_endpoint accepts https anywhere and http only on loopback hosts",
          "[url]") {
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "https://auth.example.com/token", false));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "HTTPS://AUTH.EXAMPLE.COM/token", false));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://127.0.0.1:8080/token", false));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://127.255.255.254/token", false));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://localhost:8080/token", false));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://LOCALHOST/token", false));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://[::1]:8080/token", false));
}

TEST_CASE("require_secure_endpoint throws insecure_endpoint for http on other hosts", "[url]") {
    using devflow_test::expect_error;
    for (const char* url : {"http://auth.example.com/token", "http://127.0.0.1.evil.com/token",
                            "http://localhost.evil.com/token", "http://127.1/token",
                            "http://127.0.0.1@evil.com/token", "http://10.0.0.1/token"}) {
        INFO(url);
        const auto e = expect_error([&] { require_secure_endpoint("token endpoint", url, false); },
                                    errc::insecure_endpoint);
        CHECK(std::string(e.what()).find("token endpoint") != std::string::npos);
    }
    // Schemes other than http and https are never allowed, even with the opt-in.
    expect_error([] { require_secure_endpoint("token endpoint", "ftp://127.0.0.1/token", false); },
                 errc::insecure_endpoint);
    expect_error([] { require_secure_endpoint("token endpoint", "ftp://auth.example.com/", true); },
                 errc::insecure_endpoint);
}

TEST_CASE("require_secure_endpoint throws invalid_config for a URL that is not absolute",
          "[url]") {
    using devflow_test::expect_error;
    for (const char* url : {"", "auth.example.com/token", "/token", "https:///token",
                            "https://auth example.com/"}) {
        INFO(url);
        const auto e = expect_error(
            [&] { require_secure_endpoint("device authorization endpoint", url, false); },
            errc::invalid_config);
        CHECK(std::string(e.what()).find("device authorization endpoint") != std::string::npos);
    }
}

TEST_CASE("require_secure_endpoint allows http on any host only with the explicit opt-in",
          "[url]") {
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://auth.example.com/token", true));
    CHECK_NOTHROW(require_secure_endpoint("token endpoint", "http://10.0.0.1:8080/token", true));
    CHECK_THROWS_AS(require_secure_endpoint("token endpoint", "http://auth.example.com/token", false),
                    devflow::error);
}

TEST_CASE("host_of gives the lower-cased host or an empty string", "[url]") {
    CHECK(host_of("https://Login.Example.com:443/device?user_code=ABCD") == "login.example.com");
    CHECK(host_of("https://[::1]/") == "::1");
    CHECK(host_of("not a url") == "");
}

namespace {

/// One verification URI, and whether devflow may show it and open it.
struct tricky_uri {
    const char* uri;
    bool accepted;
    const char* shown_host;  ///< the host shown in the phishing notice, when accepted
};

}  // namespace

TEST_CASE("a verification URI is refused unless the host shown is the host a browser opens "
          "(RFC 8628 §5.4; docs/security.md S9)",
          "[url][security]") {
    using devflow::detail::verification_uri_problem;
    const tricky_uri table[] = {
        {"https://login.example.com/device", true, "login.example.com"},
        {"HTTPS://Login.Example.COM:8443/device?user_code=AB-CD", true, "login.example.com"},
        {"https://login.example.com", true, "login.example.com"},
        {"http://127.0.0.1:8080/device", true, "127.0.0.1"},
        {"https://[::1]:8443/device", true, "::1"},
        {"https://xn--80ak6aa92e.com/device", true, "xn--80ak6aa92e.com"},  // punycode, shown as such
        {"https://sso_internal.example/device", true, "sso_internal.example"},
        // What follows the authority never changes the host: '#' and '?' end it.
        {"https://evil.example#@good.example/", true, "evil.example"},
        {"https://evil.example?@good.example/", true, "evil.example"},
        {"https://evil.example/@good.example", true, "evil.example"},
        // Browsers read '\' as '/': the notice would name good.example, the browser opens evil.
        {"https://good.example\\@evil.example/", false, ""},
        {"https://evil.example\\.good.example/", false, ""},
        {"https:\\\\evil.example/", false, ""},
        {"https://good.example/\\evil", false, ""},
        // Userinfo: the notice would say good.example, the browser goes to evil.example.
        {"https://good.example@evil.example/", false, ""},
        {"https://good.example:443@evil.example/", false, ""},
        {"https://user:pass@good.example/", false, ""},
        // Browsers decode percent escapes in the host.
        {"https://%65vil.example/", false, ""},
        {"https://good.example%2F@evil.example/", false, ""},
        // White space, controls and raw non-ASCII (look-alike letters, RTL tricks).
        {"https://good.example /device", false, ""},
        {"https://good.example\t.evil/", false, ""},
        {"https://good.example\n/", false, ""},
        {"https://\xef\xbd\x87ood.example/", false, ""},       // fullwidth g
        {"https://good.example/\xe2\x80\xae/", false, ""},    // U+202E in the path
        // Numbers a browser reads as IPv4 addresses, shown otherwise.
        {"https://2130706433/", false, ""},
        {"https://0x7f.0.0.1/", false, ""},
        {"https://127.1/", false, ""},
        {"https://login.example.123/", false, ""},
        // Not absolute http(s) URLs, or malformed authorities.
        {"javascript:alert(1)", false, ""},
        {"file:///etc/passwd", false, ""},
        {"https:/evil.example/", false, ""},
        {"https:///evil.example/", false, ""},
        {"https://good..example/", false, ""},
        {"https://good.example:99999/", false, ""},
        {"https://good.example:8a/", false, ""},
        {"https://[::1/", false, ""},
        {"https://[evil.example]/", false, ""},
    };
    for (const auto& row : table) {
        INFO(row.uri);
        const char* problem = verification_uri_problem(row.uri);
        CHECK((problem == nullptr) == row.accepted);
        if (row.accepted) CHECK(host_of(row.uri) == row.shown_host);
    }
}
