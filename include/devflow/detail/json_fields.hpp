// devflow — reading typed fields out of a flat json_object, with the leniency
// real servers need (numbers sent as strings) and the strictness security
// needs (no negative or absurd values). Pure; tested in json_fields_test.cpp.
#pragma once

#include <devflow/error.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// A member's string value; std::nullopt when absent, null or not a string.
inline std::optional<std::string_view> string_field(const json_object& o, std::string_view name) {
    const auto it = o.find(name);
    if (it == o.end() || it->second.type != json_value::kind::string) return std::nullopt;
    return std::string_view{it->second.string};
}

/// True when the member is present and not null.
inline bool has_field(const json_object& o, std::string_view name) {
    const auto it = o.find(name);
    return it != o.end() && it->second.type != json_value::kind::null;
}

/// Outcome of reading a number of seconds.
enum class seconds_status { ok, absent, invalid };

/// A number of seconds from a JSON number or a numeric string ("900"), as
/// some servers send (docs/design.md §2). Fractions are rounded down (a lifetime
/// is never overstated), or up with `round_up` (a minimum wait is never
/// shortened). Negative,
/// non-numeric and non-finite values, and values over `max`, are invalid;
/// absent and null are `absent`.
struct seconds_field_result {
    seconds_status status = seconds_status::absent;
    std::chrono::seconds value{0};
};

inline seconds_field_result seconds_field(const json_object& o, std::string_view name,
                                          std::chrono::seconds max, bool round_up = false) {
    const auto it = o.find(name);
    if (it == o.end() || it->second.type == json_value::kind::null) return {};
    double number = 0;
    if (it->second.type == json_value::kind::number) {
        number = it->second.number;
    } else if (it->second.type == json_value::kind::string) {
        const std::string& s = it->second.string;
        if (s.empty() || s.size() > 20) return {seconds_status::invalid, {}};
        bool seen_dot = false;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '.' && !seen_dot && i > 0) {
                seen_dot = true;
                continue;
            }
            if (c < '0' || c > '9') return {seconds_status::invalid, {}};
        }
        number = std::strtod(s.c_str(), nullptr);
    } else {
        return {seconds_status::invalid, {}};
    }
    if (!std::isfinite(number) || number < 0 || number > static_cast<double>(max.count()))
        return {seconds_status::invalid, {}};
    return {seconds_status::ok, std::chrono::seconds{static_cast<long long>(
                                    round_up ? std::ceil(number) : std::floor(number))}};
}

/// The server's error fields, verbatim (RFC 6749 §5.2), when `error` is a string.
inline std::optional<server_error_info> error_fields(const json_object& o, int http_status) {
    const auto error = string_field(o, "error");
    if (!error) return std::nullopt;
    server_error_info info;
    info.error = std::string(*error);
    if (auto d = string_field(o, "error_description")) info.error_description = std::string(*d);
    if (auto u = string_field(o, "error_uri")) info.error_uri = std::string(*u);
    info.http_status = http_status;
    return info;
}

}  // namespace devflow::detail
