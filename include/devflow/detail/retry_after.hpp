// devflow — the Retry-After header (RFC 9110 §10.2.3): delay-seconds or an
// HTTP-date. Pure; tested in tests/unit/retry_after_test.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace devflow::detail {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into seconds since
/// 1970 (kept as a count: years past 2262 do not fit a system_clock time
/// point); std::nullopt for anything else (the obsolete formats are not worth
/// the risk).
inline std::optional<std::chrono::seconds> parse_imf_fixdate(std::string_view s) {
    if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
        return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t len) -> int {
        int v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (s[i] < '0' || s[i] > '9') return -1;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const auto month_pos = months.find(s.substr(8, 3));
    if (month_pos == std::string_view::npos || month_pos % 3 != 0) return std::nullopt;
    const int day = num(5, 2), year = num(12, 4), hour = num(17, 2), minute = num(20, 2),
              second = num(23, 2);
    if (day < 1 || day > 31 || year < 1970 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    const auto days = days_from_civil(year, static_cast<unsigned>(month_pos / 3 + 1),
                                      static_cast<unsigned>(day));
    return std::chrono::seconds{days * 86400 + hour * 3600 + minute * 60 + second};
}

/// The wait a Retry-After value asks for, measured from `now` (wall clock);
/// std::nullopt when the value is malformed. A date in the past means 0.
/// Values are capped at one day.
inline std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    constexpr std::int64_t cap = 86400;
    if (value.front() >= '0' && value.front() <= '9') {
        std::int64_t v = 0;
        for (char c : value) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
            if (v > cap) v = cap;
        }
        return std::chrono::seconds{v};
    }
    const auto date = parse_imf_fixdate(value);
    if (!date) return std::nullopt;
    const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch());
    const std::int64_t delta = date->count() - now_seconds.count();
    if (delta <= 0) return std::chrono::seconds{0};
    return std::chrono::seconds{delta > cap ? cap : delta};
}

}  // namespace devflow::detail
