// devflow — scope lists as the protocol writes them (RFC 6749 §3.3) and as
// the token store keys them. Pure; tested in tests/unit/device_authorization_test.cpp
// and tests/unit/record_test.cpp.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace devflow::detail {

/// Scopes joined by single spaces, empty ones skipped (RFC 6749 §3.3).
inline std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (const auto& s : scopes) {
        if (s.empty()) continue;
        if (!out.empty()) out.push_back(' ');
        out += s;
    }
    return out;
}

/// Scopes sorted, de-duplicated and space-joined: the same set in any order
/// names the same token record.
inline std::string normalized_scopes(std::vector<std::string> scopes) {
    scopes.erase(std::remove(scopes.begin(), scopes.end(), std::string{}), scopes.end());
    std::sort(scopes.begin(), scopes.end());
    scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
    return join_scopes(scopes);
}

}  // namespace devflow::detail
