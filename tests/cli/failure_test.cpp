// Every failure is one line with its fix and a documented exit code.
#include "catch.hpp"

#include "failure.hpp"

using devflow::errc;
using devflow::cli::describe;
using devflow::cli::exit_code;

namespace {
devflow::error make(errc c, std::string message = "detail", std::string server = {},
                    std::string description = {}) {
    return devflow::error(c, message, {std::move(server), std::move(description), {}, 400});
}
}  // namespace

TEST_CASE("each errc maps to its documented exit code", "[cli][failure]") {
    CHECK(describe(make(errc::access_denied)).code == exit_code::denied);
    CHECK(describe(make(errc::expired_token)).code == exit_code::expired);
    CHECK(describe(make(errc::transport_failed)).code == exit_code::network);
    CHECK(describe(make(errc::server_error)).code == exit_code::server);
    CHECK(describe(make(errc::malformed_response)).code == exit_code::server);
    CHECK(describe(make(errc::invalid_request)).code == exit_code::server);
    CHECK(describe(make(errc::reauth_required)).code == exit_code::reauth);
    CHECK(describe(make(errc::invalid_grant)).code == exit_code::reauth);
    CHECK(describe(make(errc::storage_failed)).code == exit_code::storage);
    CHECK(describe(make(errc::unseal_failed)).code == exit_code::storage);
    CHECK(describe(make(errc::cancelled)).code == exit_code::cancelled);
    for (errc c : {errc::invalid_config, errc::insecure_endpoint, errc::issuer_mismatch,
                   errc::invalid_client, errc::invalid_scope, errc::unauthorized_client,
                   errc::unsupported_grant_type})
        CHECK(describe(make(c)).code == exit_code::usage);
    CHECK(static_cast<int>(exit_code::cancelled) == 130);
    CHECK(static_cast<int>(exit_code::usage) == 2);
}

TEST_CASE("a denial says what happened and how to retry", "[cli][failure]") {
    const auto f = describe(make(errc::access_denied, "the user denied", "access_denied"));
    CHECK(f.line == "devflow: the sign-in was denied in the browser; run `devflow login` to try again");
    CHECK(f.error_name == "access_denied");
}

TEST_CASE("the std::system_error suffix is dropped from library messages", "[cli][failure]") {
    const auto f = describe(make(errc::transport_failed, "cannot fetch http://x/: refused"));
    CHECK(f.line == "devflow: cannot reach the server (cannot fetch http://x/: refused); check the "
                    "issuer URL (--issuer) and your network");
}

TEST_CASE("server words are quoted in server errors", "[cli][failure]") {
    const auto f = describe(make(errc::server_error, "x", "temporarily_unavailable", "try later"));
    CHECK(f.line.find("temporarily_unavailable: try later") != std::string::npos);
}

TEST_CASE("an invalid client names the client id", "[cli][failure]") {
    const auto f = describe(make(errc::invalid_client), {"my-cli"});
    CHECK(f.line.find("client \"my-cli\"") != std::string::npos);
    CHECK(f.line.find("--client-id") != std::string::npos);
}

TEST_CASE("a failure line never spans lines or carries terminal escapes", "[cli][failure]") {
    const auto f = describe(make(errc::server_error, "x", "evil", "line one\nline two\x1b[2J"));
    CHECK(f.line.find('\n') == std::string::npos);
    CHECK(f.line.find('\x1b') == std::string::npos);
}

TEST_CASE("usage and not signed in failures carry their own codes", "[cli][failure]") {
    const auto u = devflow::cli::usage_failure("no issuer");
    CHECK(u.code == exit_code::usage);
    CHECK(u.line == "devflow: no issuer; see `devflow --help`");
    const auto n = devflow::cli::not_signed_in("https://a.example", "cli");
    CHECK(n.code == exit_code::reauth);
    CHECK(n.line == "devflow: not signed in to https://a.example as client \"cli\"; run `devflow login` first");
}
