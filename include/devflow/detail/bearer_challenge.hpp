// devflow — what a resource server's 401 says about a Bearer token
// (RFC 6750 §3, RFC 9110 §11.6.1): the `error` of its Bearer challenge in
// WWW-Authenticate. Pure; tested in tests/unit/authorized_test.cpp.
#pragma once

#include <devflow/types.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The `error` auth-param of the Bearer challenge in one WWW-Authenticate
/// field value (`Bearer realm="api", error="invalid_token"`), or
/// std::nullopt when there is no Bearer challenge or it has no error. The
/// value may list several challenges (`Basic realm="x", Bearer error=...`);
/// auth-param values may be tokens or quoted strings with backslash escapes.
inline std::optional<std::string> bearer_error(std::string_view value) {
    auto is_tchar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    };
    auto lower = [](std::string_view s) {
        std::string out(s);
        for (char& c : out)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return out;
    };
    std::size_t i = 0;
    auto skip_ows = [&] {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    };
    auto token = [&] {
        const std::size_t start = i;
        while (i < value.size() && is_tchar(value[i])) ++i;
        return value.substr(start, i - start);
    };
    bool in_bearer = false;
    std::optional<std::string> error;
    while (i < value.size()) {
        skip_ows();
        if (i < value.size() && value[i] == ',') {
            ++i;
            continue;
        }
        const std::string_view word = token();
        if (word.empty()) return error;  // not a well-formed list: stop where it broke
        skip_ows();
        if (i < value.size() && value[i] == '=') {
            // An auth-param of the current challenge.
            ++i;
            skip_ows();
            std::string param;
            if (i < value.size() && value[i] == '"') {
                for (++i; i < value.size() && value[i] != '"'; ++i) {
                    if (value[i] == '\\' && i + 1 < value.size()) ++i;
                    param.push_back(value[i]);
                }
                if (i < value.size()) ++i;  // the closing quote
            } else {
                param = std::string(token());
            }
            if (in_bearer && lower(word) == "error") error = std::move(param);
            continue;
        }
        // A new challenge: its scheme, then params (or a token68).
        in_bearer = lower(word) == "bearer";
        if (error && !in_bearer) return error;
    }
    return error;
}

/// True when `response` is a 401 whose Bearer challenge says the token is
/// invalid (RFC 6750 §3.1 `invalid_token`: expired, revoked, malformed).
inline bool token_refused(const http_response& response) {
    if (!response || response.status != 401) return false;
    for (const auto& h : response.headers) {
        if (h.name.size() != 16) continue;
        std::string name = h.name;
        for (char& c : name)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (name != "www-authenticate") continue;
        if (bearer_error(h.value.reveal()) == "invalid_token") return true;
    }
    return false;
}

}  // namespace devflow::detail
