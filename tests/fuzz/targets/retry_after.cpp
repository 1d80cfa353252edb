// Fuzz target: the Retry-After header (RFC 9110 §10.2.3): delay-seconds or an
// IMF-fixdate, as 429 and 5xx answers carry it. Input: the header value.
// Invariants: a wait is between 0 and one day; delay-seconds mean exactly
// that many seconds (capped); a date means the time left until it, which
// never grows as "now" moves on.
#include "../fuzz_support.hpp"

#include <devflow/detail/retry_after.hpp>

#include <algorithm>

DEVFLOW_FUZZ_TARGET(retry_after) {
    namespace d = devflow::detail;
    const std::string_view value = devflow_fuzz::as_text(data, size);
    using std::chrono::seconds;
    const auto now = devflow_fuzz::fixed_now();
    const std::chrono::system_clock::time_point times[] = {
        std::chrono::system_clock::time_point{}, now - seconds{1}, now, now + seconds{1},
        now + seconds{86400 * 366}};

    std::optional<seconds> previous;
    for (const auto& t : times) {
        const auto wait = d::parse_retry_after(value, t);
        if (!wait) {
            DEVFLOW_FUZZ_CHECK(!previous);  // validity never depends on "now"
            continue;
        }
        DEVFLOW_FUZZ_CHECK(wait->count() >= 0 && wait->count() <= 86400);
        if (previous) DEVFLOW_FUZZ_CHECK(*wait <= *previous);
        previous = wait;
    }
    // Validity never depends on "now": the first time decides for all.
    const bool valid = d::parse_retry_after(value, times[0]).has_value();
    DEVFLOW_FUZZ_CHECK(valid == d::parse_retry_after(value, times[4]).has_value());

    std::string_view trimmed = value;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
    bool all_digits = !trimmed.empty();
    for (char c : trimmed) all_digits = all_digits && c >= '0' && c <= '9';
    if (all_digits) {
        // delay-seconds: the number itself, capped at a day, whatever "now" is.
        std::int64_t expected = 0;
        for (char c : trimmed) expected = std::min<std::int64_t>(expected * 10 + (c - '0'), 86400);
        const auto wait = d::parse_retry_after(value, now);
        DEVFLOW_FUZZ_CHECK(wait && wait->count() == expected);
    } else if (valid) {
        // Otherwise only an IMF-fixdate is accepted (29 characters).
        DEVFLOW_FUZZ_CHECK(trimmed.size() == 29 && d::parse_imf_fixdate(trimmed).has_value());
    }
    return 0;
}
