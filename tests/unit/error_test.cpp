// error.hpp: the one exception type, its error codes and category
// (docs/design.md §1).
#include <devflow/error.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

using devflow::errc;

static_assert(std::is_base_of_v<std::system_error, devflow::error>);
static_assert(std::is_base_of_v<std::runtime_error, devflow::error>);
static_assert(std::is_error_code_enum_v<errc>);
static_assert(!std::is_error_condition_enum_v<errc>);

namespace {

/// Every errc, first to last.
constexpr errc all_codes[] = {
    errc::access_denied,       errc::expired_token,      errc::invalid_grant,
    errc::invalid_client,      errc::invalid_request,    errc::invalid_scope,
    errc::unauthorized_client, errc::unsupported_grant_type, errc::server_error,
    errc::transport_failed,    errc::malformed_response, errc::insecure_endpoint,
    errc::issuer_mismatch,     errc::storage_failed,     errc::reauth_required,
    errc::cancelled,           errc::invalid_config,     errc::unseal_failed,
};

}  // namespace

TEST_CASE("devflow::error is caught as std::system_error and compares with errc", "[error]") {
    try {
        devflow::detail::throw_error(errc::access_denied, "the user declined");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::access_denied);
        CHECK(e.code() != errc::expired_token);
        CHECK(e.code().category() == devflow::error_category());
        CHECK(std::string(e.what()).find("the user declined") != std::string::npos);
        const auto* typed = dynamic_cast<const devflow::error*>(&e);
        REQUIRE(typed);
        CHECK(typed->value() == errc::access_denied);
        return;
    }
    FAIL("throw_error did not throw");
}

TEST_CASE("an errc converts implicitly to a std::error_code in the devflow category", "[error]") {
    const std::error_code ec = errc::expired_token;
    CHECK(ec.value() == static_cast<int>(errc::expired_token));
    CHECK(ec.category() == devflow::error_category());
    CHECK(ec == errc::expired_token);
    CHECK(ec != errc::access_denied);
    CHECK(ec == devflow::make_error_code(errc::expired_token));
    CHECK(static_cast<bool>(ec));
    // A devflow code never equals a generic one with the same number.
    CHECK(ec != std::error_code(static_cast<int>(errc::expired_token), std::generic_category()));
}

TEST_CASE("the error category is named devflow", "[error]") {
    CHECK(std::string(devflow::error_category().name()) == "devflow");
    CHECK(&devflow::error_category() == &devflow::error_category());
}

TEST_CASE("every errc has its own message that is not unknown", "[error]") {
    std::set<std::string> seen;
    for (const errc code : all_codes) {
        const std::string message = devflow::make_error_code(code).message();
        INFO(static_cast<int>(code) << ": " << message);
        CHECK_FALSE(message.empty());
        CHECK(message.find("unknown") == std::string::npos);
        CHECK(seen.insert(message).second);
    }
    CHECK(seen.size() == sizeof(all_codes) / sizeof(all_codes[0]));
    // Values outside the enum say so.
    CHECK(devflow::error_category().message(0).find("unknown") != std::string::npos);
    CHECK(devflow::error_category().message(9999).find("unknown") != std::string::npos);
}

TEST_CASE("what() is the message alone - one sentence without the code's description appended",
          "[error]") {
    const devflow::error e(errc::expired_token, "the device code expired before the sign-in was approved");
    CHECK(std::string(e.what()) == "the device code expired before the sign-in was approved");
    CHECK(e.code().message() == "device code expired");  // the description stays with the code
    const devflow::error r(errc::reauth_required, "no valid session is left; call login() to sign in");
    CHECK(std::string(r.what()) == "no valid session is left; call login() to sign in");
}

TEST_CASE("the server fields and HTTP status are carried verbatim", "[error]") {
    devflow::server_error_info info;
    info.error = "Custom_Error";
    info.error_description = "Tenant \"acme\" is suspended; see https://status.example.com";
    info.error_uri = "https://auth.example.com/errors?code=Custom_Error#details";
    info.http_status = 401;
    const devflow::error e = devflow_test::expect_error(
        [&] { devflow::detail::throw_error(errc::server_error, "token endpoint refused", info); },
        errc::server_error);
    CHECK(e.value() == errc::server_error);
    CHECK(e.server_error() == "Custom_Error");
    CHECK(e.error_description() == "Tenant \"acme\" is suspended; see https://status.example.com");
    CHECK(e.error_uri() == "https://auth.example.com/errors?code=Custom_Error#details");
    CHECK(e.http_status() == 401);
    CHECK(e.server_info().error == info.error);
    CHECK(e.server_info().http_status == 401);
}

TEST_CASE("an error without server fields reports them empty and status 0", "[error]") {
    const devflow::error e(errc::transport_failed, "connection refused");
    CHECK(e.server_error().empty());
    CHECK(e.error_description().empty());
    CHECK(e.error_uri().empty());
    CHECK(e.http_status() == 0);
}

TEST_CASE("devflow::error copies keep the code and the server fields", "[error]") {
    devflow::server_error_info info;
    info.error = "invalid_grant";
    info.http_status = 400;
    const devflow::error original(errc::invalid_grant, "refresh refused", info);
    const devflow::error copy = original;  // exceptions are copied when rethrown
    CHECK(copy.code() == errc::invalid_grant);
    CHECK(copy.server_error() == "invalid_grant");
    CHECK(copy.http_status() == 400);
    CHECK(std::string(copy.what()) == original.what());
}

TEST_CASE("to_string gives every errc its stable enumerator name", "[error]") {
    static_assert(std::string_view(devflow::to_string(errc::access_denied)) == "access_denied");
    std::set<std::string> names;
    for (const errc c : all_codes) {
        const std::string name = devflow::to_string(c);
        CHECK(name != "unknown");
        CHECK(name.find(' ') == std::string::npos);
        names.insert(name);
    }
    CHECK(names.size() == std::size(all_codes));
    // The names the CLI's --json output promises (docs/cli.md).
    CHECK(std::string(devflow::to_string(errc::storage_failed)) == "storage_failed");
    CHECK(std::string(devflow::to_string(errc::reauth_required)) == "reauth_required");
    CHECK(std::string(devflow::to_string(errc::invalid_config)) == "invalid_config");
    CHECK(std::string(devflow::to_string(static_cast<errc>(9999))) == "unknown");
}
