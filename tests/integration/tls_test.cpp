// The provider over https with a certificate made at test time (openssl):
// both shipped transports refuse it by default with a TLS error, and run the
// whole flow when given the certificate as their CA (docs/design.md §3: peer and
// host verification always on).
#include "catch.hpp"
#if defined(DEVFLOW_CATCH_V3)
#include <catch2/catch_template_test_macros.hpp>
#endif

#include "support/provider.hpp"
#include "support/scenario.hpp"
#include "support/simulated_user.hpp"
#include "support/test_certificate.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>

#include <cctype>
#include <memory>
#include <string>

namespace {

using namespace devflow_test;

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

provider_settings https_settings(const test_certificate& cert) {
    provider_settings s;
    s.env = {{"DEVFLOW_INTERVAL", "1"}};
    s.tls_cert = cert.cert_file();
    s.tls_key = cert.key_file();
    return s;
}

}  // namespace

TEMPLATE_TEST_CASE("A provider whose certificate the transport does not trust is refused with a TLS error",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    const test_certificate cert("IP:127.0.0.1");
    provider server(https_settings(cert));
    REQUIRE(server.issuer().rfind("https://127.0.0.1:", 0) == 0);
    auto user = std::make_shared<simulated_user>(user_options{});
    // The transport's defaults: the system's CA store, which never saw this certificate.
    devflow::device_flow<observed_http<TestType>, devflow::nlohmann_json, devflow::memory_store,
                         devflow::system_clock, user_browser>
        flow(server.public_client(), observed_http<TestType>(make_adapter<TestType>()), {}, {}, {},
             user_browser{user});
    auto out = capture_output(flow);

    const auto e = error_from([&] { flow.login(); });
    REQUIRE(e.has_value());
    const std::string what = lower(e->what());
    INFO("what(): " << e->what());
    CHECK(e->code() == devflow::errc::transport_failed);
    CHECK((what.find("tls") != std::string::npos || what.find("certificate") != std::string::npos));
    const auto sent = flow.http().journal().of(exchange_kind::device_authorization);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].transport == devflow::transport_error::tls);
    CHECK(out->prompt_count() == 0);
    CHECK(user->visits() == 0);
    // No request got through the handshake to the provider.
    CHECK(server.stat({"device_authorization_requests"}) == 0);
}

TEMPLATE_TEST_CASE("A provider served over https runs the whole flow when the transport trusts its CA",
                   "[provider]", devflow::curl_http, devflow::httplib_http) {
    const test_certificate cert("IP:127.0.0.1");
    provider server(https_settings(cert));
    user_options o;
    o.after_polls = 0;
    o.ca_file = cert.cert_file();
    auto user = std::make_shared<simulated_user>(o);
    devflow::device_flow<observed_http<TestType>, devflow::nlohmann_json, devflow::memory_store,
                         devflow::system_clock, user_browser>
        flow(server.public_client(), observed_adapter<TestType>(server, user), {}, {}, {},
             user_browser{user});
    auto out = capture_output(flow);

    const devflow::token_set tokens = flow.login();
    const user_outcome visit = user->wait();
    INFO("simulated user: " << visit.output);
    CHECK(visit.exit_status == 0);
    CHECK_FALSE(tokens.access_token.empty());
    CHECK(user->opened().at(0).rfind("https://127.0.0.1:", 0) == 0);
    CHECK(get_userinfo<TestType>(server, flow.authorization_header()).status == 200);
    CHECK(flow.logout());

    const auto stats = server.stats();
    INFO("stats: " << stats.dump());
    CHECK(count_at(stats, {"token_successes", "urn:ietf:params:oauth:grant-type:device_code"}) == 1);
    CHECK(count_at(stats, {"revocations"}) == 2);
}
