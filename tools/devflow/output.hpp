// devflow CLI — what the commands print on success: the --json objects and
// the closing lines (pure; tested in tests/cli/output_test.cpp; the formats
// are listed in docs/cli.md). The status report itself is in status.hpp, the
// prompt in terminal.hpp, failures in failure.hpp.
#pragma once

#include "failure.hpp"
#include "status.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::cli {

/// Seconds since 1970 (UTC), as every --json time is given.
inline long long unix_seconds(wall_time t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// One line of --json output: the object and a newline.
inline std::string json_line(const nlohmann::ordered_json& j) { return j.dump() + "\n"; }

/// `--json` for any failure: {"error":NAME,"exit_code":N,"message":LINE
/// without "devflow: "}. Never holds a secret (the line never does).
inline nlohmann::ordered_json error_json(const failure& f) {
    nlohmann::ordered_json j;
    j["error"] = f.error_name;
    j["exit_code"] = static_cast<int>(f.code);
    constexpr std::string_view prefix = "devflow: ";
    j["message"] = f.line.compare(0, prefix.size(), prefix) == 0 ? f.line.substr(prefix.size())
                                                                 : f.line;
    return j;
}

/// `token --json`: {"access_token":...,"token_type":"Bearer","expires_at":N}
/// (expires_at left out when the server gave no lifetime). The one JSON
/// object holding a token: the user asked for it.
inline nlohmann::ordered_json token_json(std::string_view access_token,
                                         std::optional<wall_time> expires_at) {
    nlohmann::ordered_json j;
    j["access_token"] = access_token;
    j["token_type"] = "Bearer";
    if (expires_at) j["expires_at"] = unix_seconds(*expires_at);
    return j;
}

/// `token --id-token --json`: {"id_token":...,"expires_at":N} (expires_at,
/// the token's own `exp`, left out when it has none). Printed because the
/// user asked for it.
inline nlohmann::ordered_json id_token_json(std::string_view id_token,
                                            std::optional<wall_time> expires_at) {
    nlohmann::ordered_json j;
    j["id_token"] = id_token;
    if (expires_at) j["expires_at"] = unix_seconds(*expires_at);
    return j;
}

/// `login --json`'s last event: {"event":"signed_in", ...the status object}.
inline nlohmann::ordered_json signed_in_json(const status_input& s) {
    nlohmann::ordered_json j;
    j["event"] = "signed_in";
    j.update(status_json(s));
    return j;
}

/// `logout --json`: {"signed_out":true,"was_signed_in":B,"revoked":B}.
inline nlohmann::ordered_json logout_json(bool was_signed_in, bool revoked) {
    nlohmann::ordered_json j;
    j["signed_out"] = true;
    j["was_signed_in"] = was_signed_in;
    j["revoked"] = revoked;
    return j;
}

/// What `devflow logout` did, in one line: whether the server could revoke,
/// and whether it confirmed.
inline std::string logout_line(bool has_revocation_endpoint, bool revoked) {
    if (!has_revocation_endpoint)
        return "devflow: signed out; the tokens were wiped here (the server offers no revocation "
               "endpoint, so they stay valid there until they expire)\n";
    if (revoked) return "devflow: signed out; the tokens were revoked at the server and wiped here\n";
    return "devflow: signed out; the tokens were wiped here, but the server did not confirm "
           "their revocation (they expire on their own)\n";
}

/// `devflow logout` with no session.
inline std::string nothing_to_sign_out_line() {
    return "devflow: not signed in; nothing to sign out of\n";
}

}  // namespace devflow::cli
