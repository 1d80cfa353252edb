// devflow — text from a server, made safe to show: for programs that print
// what devflow hands them (a prompt's fields, an error's server words) on a
// terminal or in a log (docs/security.md).
#pragma once

#include <devflow/detail/display_text.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace devflow {

/// `text` made safe to show on one line: C0 and C1 controls, DEL and the
/// bidirectional formatting characters written as visible escapes (`\x1b`,
/// `\u202e`), bytes that are not UTF-8 as `\xNN`; cut at `max_bytes` with
/// "..." when longer. What devflow itself uses for what(), its log and the
/// CLI. Idempotent: safe text is returned as it is.
[[nodiscard]] inline std::string safe_text(std::string_view text,
                                           std::size_t max_bytes = std::string_view::npos) {
    return detail::display_text(text, max_bytes);
}

/// A duration as a prompt says it: "10 minutes", "1 minute", "45 seconds".
[[nodiscard]] inline std::string describe_duration(std::chrono::seconds s) {
    const auto n = s.count();
    if (n >= 120) return std::to_string(n / 60) + " minutes";
    if (n >= 60) return "1 minute";
    return std::to_string(n) + (n == 1 ? " second" : " seconds");
}

/// True when `text` holds nothing safe_text() would change (short of the cut).
[[nodiscard]] inline bool is_safe_text(std::string_view text) noexcept {
    return !detail::has_unsafe_text(text);
}

}  // namespace devflow
