// Fuzz target: a whole login() through device_flow with the shipped test
// doubles (fake_http, fake_clock, memory_store, recording_browser) and the
// nlohmann adapter. The input is sections split at "%%" lines: a stored
// record (may be empty), the device authorization answer, then the token
// endpoint's answers in order, each in the readable answer format. Once the
// script runs out the fake server answers 404, so every run ends.
// Invariants: only devflow::error escapes, with a code login() documents;
// no prompt, log line, browser URL or error message carries a token or the
// device code; polls are at least a second apart and never past the device
// code's lifetime (RFC 8628 §3.5); tokens returned are the ones stored.
#include "../fuzz_support.hpp"

#include <devflow/detail/device_authorization.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/memory_store.hpp>
#include <devflow/testing.hpp>

namespace devflow_fuzz::flow_target {

using flow_type = devflow::device_flow<devflow::testing::fake_http, devflow::nlohmann_json,
                                       devflow::memory_store, devflow::testing::fake_clock,
                                       devflow::testing::recording_browser>;

inline constexpr const char* device_endpoint = "https://as.example.org/device";
inline constexpr const char* token_endpoint = "https://as.example.org/token";

/// Plants canaries in a JSON body and rewrites it; tells whether leak checks
/// stay meaningful (the body did not carry the marker already).
inline bool plant(std::string& body, int serial) {
    const devflow::nlohmann_json json;
    auto parsed = json.parse(body);
    if (!parsed) return leak_free(body);
    const bool clean = marker_free(*parsed);
    plant_canaries(*parsed, serial);
    body = json.write(*parsed);
    return clean;
}

/// The codes login() may end with here: never configuration, storage or
/// cancellation — except that a seeded record of another client is refused
/// (invalid_config) and one of a newer format is left alone (storage_failed).
inline bool allowed_code(std::error_code code, devflow::detail::record_status seeded) {
    using devflow::errc;
    using devflow::detail::record_status;
    if (code == errc::invalid_config) return seeded == record_status::foreign;
    if (code == errc::storage_failed) return seeded == record_status::newer;
    return code != errc::insecure_endpoint && code != errc::cancelled &&
           code != errc::issuer_mismatch && code != errc::reauth_required;
}

}  // namespace devflow_fuzz::flow_target

DEVFLOW_FUZZ_TARGET(flow) {
    namespace self = devflow_fuzz::flow_target;
    using namespace std::chrono_literals;
    const auto sections = devflow_fuzz::split_sections(devflow_fuzz::as_text(data, size));
    if (sections.size() > 64) return 0;  // long scripts add time, not paths

    devflow::client_config cfg;
    cfg.device_authorization_endpoint = self::device_endpoint;
    cfg.token_endpoint = self::token_endpoint;
    cfg.client_id = "fuzz-client";
    cfg.scopes = {"openid", "offline_access"};

    devflow::testing::fake_clock clock;
    devflow::testing::fake_http http{clock};
    devflow::memory_store store;
    devflow::testing::recording_browser browser;
    bool check_leaks = true;

    // Section 0: the record already in the store, if any.
    std::string record(sections[0]);
    const std::string key =
        devflow::detail::store_key(devflow::detail::identity_of(cfg));
    auto seeded = devflow::detail::record_status::absent;
    if (!record.empty()) {
        check_leaks = self::plant(record, 0) && check_leaks;
        store.save(key, devflow::secret{record});
        if (const auto doc = devflow::nlohmann_json{}.parse(record))
            seeded = devflow::detail::record_from_json(*doc, devflow::detail::identity_of(cfg)).status;
    }
    // Section 1: the device authorization answer; then the token answers.
    std::optional<devflow::json_object> device_answer;
    for (std::size_t i = 1; i < sections.size(); ++i) {
        auto a = devflow_fuzz::parse_answer(sections[i]);
        check_leaks = self::plant(a.body, static_cast<int>(i)) && check_leaks;
        if (i == 1 && !a.transport_failure) device_answer = devflow::nlohmann_json{}.parse(a.body);
        http.enqueue(i == 1 ? self::device_endpoint : self::token_endpoint,
                     devflow_fuzz::to_response(a));
    }

    self::flow_type flow{cfg, http, devflow::nlohmann_json{}, store, clock, browser};
    std::vector<std::string> seen;  // everything a user or a log could see
    flow.on_prompt([&seen](const devflow::prompt_info& p) {
        seen.push_back(p.text);
        seen.push_back(p.user_code);
        seen.push_back(p.verification_uri);
        seen.push_back(p.verification_uri_complete);
    });
    flow.on_log([&seen](devflow::log_level, std::string_view line) { seen.emplace_back(line); });

    std::optional<devflow::token_set> tokens;
    try {
        tokens = flow.login();
    } catch (const devflow::error& e) {
        DEVFLOW_FUZZ_CHECK(self::allowed_code(e.code(), seeded));
        seen.emplace_back(e.what());
        seen.push_back(e.error_description());
    }
    for (const auto& url : browser.opened()) seen.push_back(url);
    if (check_leaks)
        for (const auto& text : seen) DEVFLOW_FUZZ_CHECK(devflow_fuzz::leak_free(text));

    // RFC 8628 §3.5: polls at least a second apart, never past expires_in.
    const auto device_requests = http.requests_to(self::device_endpoint);
    DEVFLOW_FUZZ_CHECK(device_requests.size() <= 1);
    std::vector<devflow::testing::recorded_request> polls;
    for (auto& r : http.requests_to(self::token_endpoint))
        if (r.field("grant_type") == "urn:ietf:params:oauth:grant-type:device_code") polls.push_back(r);
    if (!polls.empty()) {
        DEVFLOW_FUZZ_CHECK(device_requests.size() == 1 && device_answer.has_value());
        const auto da = devflow::detail::parse_device_authorization(*device_answer, cfg.max_expires_in);
        auto previous = device_requests.front().at;
        for (const auto& p : polls) {
            DEVFLOW_FUZZ_CHECK(p.at - previous >= 1s);
            DEVFLOW_FUZZ_CHECK(p.at - device_requests.front().at < da.expires_in);
            DEVFLOW_FUZZ_CHECK(p.field("device_code") == da.device_code.reveal());
            previous = p.at;
        }
    }
    // Tokens returned are the tokens stored, under this client's identity.
    if (tokens) {
        DEVFLOW_FUZZ_CHECK(!tokens->access_token.empty());
        const auto stored = store.load(key);
        DEVFLOW_FUZZ_CHECK(stored.has_value());
        const auto doc = devflow::nlohmann_json{}.parse(stored->reveal());
        DEVFLOW_FUZZ_CHECK(doc.has_value());
        const auto rec = devflow::detail::record_from_json(*doc, devflow::detail::identity_of(cfg));
        DEVFLOW_FUZZ_CHECK(rec.status == devflow::detail::record_status::ok);
        DEVFLOW_FUZZ_CHECK(rec.tokens.access_token.reveal() == tokens->access_token.reveal());
    }
    return 0;
}
