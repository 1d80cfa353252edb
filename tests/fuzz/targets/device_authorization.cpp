// Fuzz target: the device authorization answer (RFC 8628 §3.2), from raw
// bytes through the nlohmann adapter into detail::parse_device_authorization.
// Invariants: an accepted answer is usable as the flow uses it; a refused one
// throws only malformed_response, and no message carries the device code.
#include "../fuzz_support.hpp"

#include <devflow/detail/device_authorization.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>

namespace devflow_fuzz::device_authorization_target {

inline void check_accepted(const devflow::device_authorization& da,
                           std::chrono::seconds max_expires_in) {
    DEVFLOW_FUZZ_CHECK(!da.device_code.empty());
    DEVFLOW_FUZZ_CHECK(!da.user_code.empty());
    for (unsigned char c : da.user_code) DEVFLOW_FUZZ_CHECK(c >= 0x20 && c != 0x7F);
    // RFC 8628 §3.3: the user is sent to an http(s) page.
    for (const std::string* uri : {&da.verification_uri, &da.verification_uri_complete}) {
        if (uri->empty()) continue;
        const auto parts = devflow::detail::parse_url(*uri);
        DEVFLOW_FUZZ_CHECK(parts.has_value());
        DEVFLOW_FUZZ_CHECK(parts->scheme == "https" || parts->scheme == "http");
        DEVFLOW_FUZZ_CHECK(!parts->host.empty());
    }
    DEVFLOW_FUZZ_CHECK(!da.verification_uri.empty());
    DEVFLOW_FUZZ_CHECK(da.expires_in.count() > 0 && da.expires_in <= max_expires_in);
    // RFC 8628 §3.2: 5 s by default; devflow never polls faster than once a second.
    DEVFLOW_FUZZ_CHECK(da.interval >= std::chrono::seconds{1});
    DEVFLOW_FUZZ_CHECK(da.interval <= std::chrono::seconds{3600});
}

}  // namespace devflow_fuzz::device_authorization_target

DEVFLOW_FUZZ_TARGET(device_authorization) {
    namespace self = devflow_fuzz::device_authorization_target;
    auto parsed = devflow::nlohmann_json{}.parse(devflow_fuzz::as_text(data, size));
    if (!parsed) return 0;
    const bool check_leaks = devflow_fuzz::marker_free(*parsed);
    devflow_fuzz::plant_canaries(*parsed);
    const std::chrono::seconds max_expires_in{std::chrono::hours{24}};
    try {
        const auto da = devflow::detail::parse_device_authorization(*parsed, max_expires_in);
        self::check_accepted(da, max_expires_in);
        if (check_leaks) {
            // Only the device code is secret; it must come out exactly as planted.
            DEVFLOW_FUZZ_CHECK(!devflow_fuzz::leak_free(da.device_code.reveal()));
            DEVFLOW_FUZZ_CHECK(devflow_fuzz::leak_free(da.user_code));
        }
    } catch (const devflow::error& e) {
        DEVFLOW_FUZZ_CHECK(e.code() == devflow::errc::malformed_response);
        if (check_leaks) DEVFLOW_FUZZ_CHECK(devflow_fuzz::leak_free(e.what()));
    }
    return 0;
}
