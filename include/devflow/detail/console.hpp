// devflow — where a flow's prompt and diagnostics go when the application
// sets no handler of its own: standard error.
#pragma once

#include <devflow/types.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The default prompt handler: the ready-made text on stderr.
inline void default_prompt(const prompt_info& p) {
    std::fputs(p.text.c_str(), stderr);
    std::fflush(stderr);
}

/// The default log handler: warnings only, one "devflow: warning:" line each.
inline void default_log(log_level level, std::string_view message) {
    if (level != log_level::warning) return;
    std::string line = "devflow: warning: ";
    line.append(message);
    line.push_back('\n');
    std::fputs(line.c_str(), stderr);
}

}  // namespace devflow::detail
