// detail/prompt.hpp: the words shown to the user (RFC 8628 §3.3) and the
// remote-phishing notice (RFC 8628 §5.4).
#include <devflow/detail/prompt.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <chrono>
#include <string>

using devflow::device_authorization;
using devflow::secret;
using devflow::describe_duration;
using devflow::detail::make_prompt;
using devflow_test::leak_free;
using std::chrono::seconds;

namespace {

const std::chrono::steady_clock::time_point deadline{seconds{5000}};

device_authorization answer() {
    device_authorization da;
    da.device_code = secret{"CANARY-device-code-prompt"};
    da.user_code = "WDJB-MJHT";
    da.verification_uri = "https://Login.Example.com/device";
    da.expires_in = seconds{600};
    da.interval = seconds{5};
    return da;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("describe_duration speaks in minutes or seconds", "[prompt]") {
    CHECK(describe_duration(seconds{600}) == "10 minutes");
    CHECK(describe_duration(seconds{1800}) == "30 minutes");
    CHECK(describe_duration(seconds{150}) == "2 minutes");
    CHECK(describe_duration(seconds{119}) == "1 minute");
    CHECK(describe_duration(seconds{60}) == "1 minute");
    CHECK(describe_duration(seconds{59}) == "59 seconds");
    CHECK(describe_duration(seconds{1}) == "1 second");
}

TEST_CASE("the prompt shows the user code the verification URI the host and the expiry",
          "[prompt]") {
    const auto p = make_prompt(answer(), false, deadline);
    CHECK(p.user_code == "WDJB-MJHT");
    CHECK(p.verification_uri == "https://Login.Example.com/device");
    CHECK(p.verification_uri_complete.empty());
    CHECK(p.host == "login.example.com");
    CHECK(p.expires_in == seconds{600});
    CHECK(p.expires_at == deadline);
    CHECK_FALSE(p.browser_opened);
    INFO(p.text);
    CHECK(contains(p.text, "WDJB-MJHT"));
    CHECK(contains(p.text, "https://Login.Example.com/device"));
    CHECK(contains(p.text, "login.example.com"));
    CHECK(contains(p.text, "10 minutes"));
    CHECK_FALSE(contains(p.text, "browser window"));
}

TEST_CASE("the prompt carries the remote phishing notice of RFC 8628 section 5.4", "[prompt]") {
    const auto p = make_prompt(answer(), false, deadline);
    INFO(p.text);
    CHECK(contains(p.text, "Approve only if you started this sign-in"));
    CHECK(contains(p.text, "if someone sent you this code or link, do not enter it"));
}

TEST_CASE("the prompt never contains the device code", "[prompt]") {
    for (bool opened : {false, true}) {
        auto da = answer();
        da.verification_uri_complete = "https://login.example.com/device?user_code=WDJB-MJHT";
        const auto p = make_prompt(da, opened, deadline);
        CHECK(leak_free(p.text));
        CHECK(leak_free(p.user_code));
        CHECK(leak_free(p.verification_uri));
        CHECK(leak_free(p.verification_uri_complete));
        CHECK(leak_free(p.host));
    }
}

TEST_CASE("the host shown comes from verification_uri_complete when it is sent", "[prompt]") {
    auto da = answer();
    da.verification_uri_complete = "https://Approve.Example.NET:8443/d?user_code=WDJB-MJHT";
    const auto p = make_prompt(da, true, deadline);
    CHECK(p.host == "approve.example.net");
    CHECK(p.verification_uri_complete == da.verification_uri_complete);
    INFO(p.text);
    CHECK(contains(p.text, "You are signing in at approve.example.net"));
    CHECK(p.browser_opened);
    CHECK(contains(p.text, "browser window has been opened"));
}
