// devflow CLI — `devflow git-credential get|store|erase` (git's credential
// helper protocol, gitcredentials(7) and git-credential(1)) and
// `devflow setup-git` (the git config entry that names the helper). Pure;
// tested in tests/cli/git_test.cpp; docs/cli.md ("git") is the user's view.
#pragma once

#include "completion.hpp"
#include "failure.hpp"

#include <devflow/secret.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// The username git gets with the token when none is configured: what
/// GitLab documents for OAuth tokens; GitHub wants `x-access-token`, most
/// other servers take any name (--username).
inline constexpr std::string_view default_git_username = "oauth2";

/// What git asked the helper (the attributes devflow uses).
struct credential_request {
    std::string protocol;
    std::string host;  ///< with ":port" when the URL has one
    std::string path;
    std::string username;
    secret password;  ///< erase: the password git saw refused
    std::string problem;  ///< a line git's input broke the protocol with; empty when good
};

/// Reads git's input: `key=value` lines up to an empty line or the end.
/// A line without '=', or a value with a NUL, breaks the protocol. Repeated
/// keys keep the first value; keys devflow does not use are ignored (as
/// git-credential(1) asks of helpers).
inline credential_request parse_credential_request(std::string_view text) {
    credential_request r;
    bool seen_protocol = false, seen_host = false, seen_path = false, seen_user = false,
         seen_password = false;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            r.problem = "git sent a line that is not key=value";
            return r;
        }
        const std::string_view key = line.substr(0, eq);
        const std::string_view value = line.substr(eq + 1);
        if (value.find('\0') != std::string_view::npos) {
            r.problem = "git sent a value with a NUL byte";
            return r;
        }
        auto take = [&](bool& seen, std::string& target) {
            if (!seen) target = std::string(value);
            seen = true;
        };
        if (key == "protocol") {
            take(seen_protocol, r.protocol);
        } else if (key == "host") {
            take(seen_host, r.host);
        } else if (key == "path") {
            take(seen_path, r.path);
        } else if (key == "username") {
            take(seen_user, r.username);
        } else if (key == "password") {
            if (!seen_password) r.password = secret{std::string(value)};
            seen_password = true;
        }
    }
    return r;
}

inline std::string lower_case(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

/// True when `host` (as git sends it, maybe with ":port") is a loopback
/// host: localhost, 127.x.y.z or [::1].
inline bool loopback_git_host(std::string_view host) {
    std::string h = lower_case(host);
    if (!h.empty() && h.front() == '[') return h.rfind("[::1]", 0) == 0;
    if (const auto colon = h.find(':'); colon != std::string::npos) h.resize(colon);
    return h == "localhost" || h.rfind("127.", 0) == 0;
}

/// Why devflow will not give a token for this request ("" when it will):
/// only to the host the helper was set up for, and only over https (or
/// plain http to a loopback host), never with the token in clear text over
/// a network.
inline std::string refusal_for(const credential_request& r, std::string_view host) {
    if (lower_case(host) != lower_case(r.host))
        return "not giving a token to " + safe_text(r.host, 200) + ": this helper serves " +
               safe_text(host, 200) + " (--host)";
    if (r.protocol != "https" && !(r.protocol == "http" && loopback_git_host(r.host)))
        return "not giving a token to " + safe_text(r.protocol, 20) + "://" + safe_text(r.host, 200) +
               ": only https carries it";
    return {};
}

/// The username to answer with: --username, else the one git sent (from
/// the remote's URL), else `oauth2`.
inline std::string git_username(const std::optional<std::string>& option, const credential_request& r) {
    if (option) return *option;
    if (!r.username.empty()) return r.username;
    return std::string(default_git_username);
}

/// The answer to `get`: username, the token as password, and (for git 2.41
/// and later; older ones ignore it) when it expires.
inline std::string credential_answer(std::string_view username, std::string_view token,
                                     std::optional<std::chrono::system_clock::time_point> expires_at) {
    std::string out = "username=" + std::string(username) + "\npassword=" + std::string(token) + "\n";
    if (expires_at)
        out += "password_expiry_utc=" +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                  expires_at->time_since_epoch())
                                  .count()) +
               "\n";
    return out;
}

/// True for a host `setup-git` may name: "git.example.org" or
/// "git.example.org:8443" (no scheme, path, user or white space).
inline bool valid_git_host(std::string_view host) {
    if (host.empty() || host.size() > 255) return false;
    for (char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok) return false;
    }
    return true;
}

/// The git config key whose value names the helper for `host`.
inline std::string git_helper_key(std::string_view host) {
    return "credential.https://" + std::string(host) + ".helper";
}

/// The helper as git runs it: "!" and the words, each shell-quoted (git
/// runs a helper starting with "!" through the shell).
inline std::string git_helper_command(const std::vector<std::string>& words) {
    std::string out = "!";
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += ' ';
        out += shell_quote(words[i]);
    }
    return out;
}

/// What `setup-git` says it did.
inline std::string setup_git_line(std::string_view host) {
    return "devflow: git now asks devflow for credentials for https://" + one_line(host, 200) +
           " (" + git_helper_key(host) + " in your global git config)\n";
}

}  // namespace devflow::cli
