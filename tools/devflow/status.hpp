// devflow CLI — what `devflow status` shows: who is signed in, to what, with
// which scopes, until when. Every secret is redacted: tokens are reported as
// present or absent, never shown; the id_token's claims are decoded for
// display only (never verified, never trusted). Pure; tested in
// tests/cli/status_test.cpp.
#pragma once

#include "failure.hpp"
#include "jwt.hpp"

#include <devflow/types.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace devflow::cli {

using wall_time = std::chrono::system_clock::time_point;

/// "2026-01-01 12:00:00 UTC".
inline std::string format_utc(wall_time t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/// "45 s", "59 min", "1 h 5 min", "2 d 3 h" (rounded down; negative as 0 s).
inline std::string format_duration(std::chrono::seconds d) {
    long long s = d.count() < 0 ? 0 : d.count();
    if (s < 60) return std::to_string(s) + " s";
    const long long m = s / 60;
    if (m < 60) return std::to_string(m) + " min";
    const long long h = m / 60;
    if (h < 24) return std::to_string(h) + " h" + (m % 60 ? " " + std::to_string(m % 60) + " min" : "");
    return std::to_string(h / 24) + " d" + (h % 24 ? " " + std::to_string(h % 24) + " h" : "");
}

/// The claims about the user, read from the id_token (or a JWT access
/// token) without verification, for display only.
struct user_claims {
    std::string sub;
    std::string preferred_username;
    std::string name;
    std::string email;
    std::optional<wall_time> id_token_expires;  ///< the id_token's exp

    /// The best name to show: preferred_username, name, email, sub, or "".
    [[nodiscard]] std::string display_name() const {
        if (!preferred_username.empty()) return preferred_username;
        if (!name.empty()) return name;
        if (!email.empty()) return email;
        return sub;
    }
};

/// Claims from a JWT's payload (RFC 7519 §4.1); empty when it is not one.
inline user_claims claims_of(std::string_view jwt) {
    user_claims c;
    const auto payload = jwt_payload(jwt);
    if (!payload) return c;
    const auto j = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return c;
    auto text = [&](const char* name) {
        const auto it = j.find(name);
        return it != j.end() && it->is_string() ? one_line(it->get<std::string>(), 120)
                                                : std::string{};
    };
    c.sub = text("sub");
    c.preferred_username = text("preferred_username");
    c.name = text("name");
    c.email = text("email");
    // RFC 7519 §4.1.4: exp is a NumericDate (seconds since 1970).
    if (const auto exp = j.find("exp");
        exp != j.end() && exp->is_number() && exp->get<double>() > 0 && exp->get<double>() < 9.0e9)
        c.id_token_expires = wall_time{std::chrono::seconds{static_cast<long long>(exp->get<double>())}};
    return c;
}

/// The claims of a token set: from the id_token, else from the access token
/// when it is a JWT (Keycloak's are).
inline user_claims claims_of(const token_set& t) {
    if (!t.id_token.empty()) {
        user_claims c = claims_of(t.id_token.reveal());
        if (!c.sub.empty() || !c.display_name().empty()) return c;
    }
    user_claims c = claims_of(t.access_token.reveal());
    c.id_token_expires.reset();
    return c;
}

/// Whether a `devflow keep-alive` holds the session's keep-alive lock.
struct keep_alive_state {
    bool running = false;
    std::optional<long> pid;  ///< from its pid file, when readable
};

/// Everything `devflow status` reports.
struct status_input {
    std::string issuer;
    std::string client_id;
    std::vector<std::string> requested_scopes;
    std::string cache;                ///< where the tokens (or, with the keyring, their locks) live
    std::string store;                ///< "file" or "keyring"; "" when not known (not shown)
    std::string profile;              ///< the named profile in use; "" for none
    std::optional<token_set> tokens;  ///< std::nullopt: not signed in
    std::optional<keep_alive_state> keep_alive;  ///< std::nullopt: not looked at
    wall_time now{};
};

/// The store row: "files", "keyring (Secret Service)".
inline std::string store_text(const std::string& store) {
    if (store == "file") return "files";
    if (store == "keyring") return "keyring (Secret Service)";
    return one_line(store, 40);
}

/// "running (pid 1234)", "running", "not running".
inline std::string keep_alive_text(const keep_alive_state& k) {
    if (!k.running) return "not running";
    return k.pid ? "running (pid " + std::to_string(*k.pid) + ")" : std::string("running");
}

/// True when the stored session can still produce an access token without
/// the user: a valid access token or a usable refresh token.
inline bool signed_in(const status_input& s) {
    return s.tokens && (s.tokens->access_token_valid(s.now) ||
                        s.tokens->refresh_token_valid(s.now));
}

inline std::string join(const std::vector<std::string>& words, const char* sep = " ") {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += sep;
        out += w;
    }
    return out;
}

/// The human-readable report (several lines); never holds a token.
inline std::string format_status_text(const status_input& s) {
    std::string out;
    auto row = [&out](const char* label, const std::string& value) {
        out += "  ";
        out += label;
        out.append(15 - std::string_view(label).size(), ' ');
        out += value + "\n";
    };
    const std::string scopes = s.requested_scopes.empty() ? "(none)" : join(s.requested_scopes);
    if (!s.tokens) {
        out += "Not signed in; run `devflow login` to sign in.\n";
        if (!s.profile.empty()) row("profile", one_line(s.profile));
        if (!s.issuer.empty()) row("issuer", one_line(s.issuer));
        if (!s.client_id.empty()) row("client", one_line(s.client_id));
        if (!s.issuer.empty()) row("scopes", one_line(scopes));
        if (!s.store.empty()) row("store", store_text(s.store));
        row("cache", one_line(s.cache));
        return out;
    }
    const token_set& t = *s.tokens;
    const bool in = signed_in(s);
    out += in ? "Signed in.\n" : "The session has ended; run `devflow login` to sign in again.\n";
    if (!s.profile.empty()) row("profile", one_line(s.profile));
    row("issuer", one_line(s.issuer));
    row("client", one_line(s.client_id));
    const user_claims who = claims_of(t);
    if (!who.display_name().empty()) {
        std::string user = who.display_name();
        std::vector<std::string> more;
        if (!who.sub.empty() && who.sub != user) more.push_back("sub " + who.sub);
        if (!who.email.empty() && who.email != user) more.push_back(who.email);
        if (!more.empty()) user += " (" + join(more, ", ") + ")";
        row("user", user);
    }
    std::string granted = t.scope.empty() ? scopes : one_line(t.scope);
    if (!t.scope.empty() && t.scope != join(s.requested_scopes)) granted += " (asked: " + scopes + ")";
    row("scopes", granted);
    std::string access = "[redacted], ";
    if (!t.expires_at) {
        access += "no expiry given";
    } else if (s.now < *t.expires_at) {
        access += "valid for " +
                  format_duration(std::chrono::duration_cast<std::chrono::seconds>(*t.expires_at - s.now)) +
                  " (until " + format_utc(*t.expires_at) + ")";
    } else {
        access += "expired " + format_utc(*t.expires_at) +
                  (t.refresh_token_valid(s.now) ? "; refreshed on next use" : "");
    }
    row("access token", access);
    std::string refresh;
    if (t.refresh_token.empty()) {
        refresh = "none (sign in again when the access token expires)";
    } else if (!t.refresh_expires_at) {
        refresh = "[redacted], no expiry given";
    } else if (s.now < *t.refresh_expires_at) {
        // docs/keycloak.md: say which of the server's limits ends the session.
        refresh = std::string("[redacted], session ") +
                  (t.ends_at_session_maximum() ? "maximum" : "idle limit") + " in " +
                  format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                      *t.refresh_expires_at - s.now)) +
                  " (until " + format_utc(*t.refresh_expires_at) + ")";
    } else {
        refresh = "[redacted], expired " + format_utc(*t.refresh_expires_at);
    }
    row("refresh token", refresh);
    row("id token", t.id_token.empty() ? "none" : "[redacted]");
    if (s.keep_alive) row("keep-alive", keep_alive_text(*s.keep_alive));
    if (t.obtained_at.time_since_epoch().count() > 0) row("obtained", format_utc(t.obtained_at));
    if (!s.store.empty()) row("store", store_text(s.store));
    row("cache", one_line(s.cache));
    return out;
}

/// The machine-readable report for --json; never holds a token.
inline nlohmann::ordered_json status_json(const status_input& s) {
    nlohmann::ordered_json j;
    j["signed_in"] = signed_in(s);
    j["issuer"] = s.issuer;
    j["client_id"] = s.client_id;
    j["requested_scopes"] = s.requested_scopes;
    if (!s.store.empty()) j["store"] = s.store;
    j["cache"] = s.cache;
    if (!s.profile.empty()) j["profile"] = s.profile;
    if (!s.tokens) return j;
    const token_set& t = *s.tokens;
    const user_claims who = claims_of(t);
    nlohmann::ordered_json user = nlohmann::ordered_json::object();
    if (!who.sub.empty()) user["sub"] = who.sub;
    if (!who.preferred_username.empty()) user["preferred_username"] = who.preferred_username;
    if (!who.name.empty()) user["name"] = who.name;
    if (!who.email.empty()) user["email"] = who.email;
    j["user"] = user;
    j["scope"] = t.scope;
    auto unix_seconds = [](wall_time w) {
        return std::chrono::duration_cast<std::chrono::seconds>(w.time_since_epoch()).count();
    };
    auto remaining = [&](wall_time w) {
        const auto d = std::chrono::duration_cast<std::chrono::seconds>(w - s.now).count();
        return d < 0 ? 0 : d;
    };
    nlohmann::ordered_json access;
    access["present"] = !t.access_token.empty();
    access["valid"] = t.access_token_valid(s.now);
    access["expires_at"] = t.expires_at ? nlohmann::ordered_json(unix_seconds(*t.expires_at)) : nullptr;
    access["expires_in"] = t.expires_at ? nlohmann::ordered_json(remaining(*t.expires_at)) : nullptr;
    j["access_token"] = access;
    nlohmann::ordered_json refresh;
    refresh["present"] = !t.refresh_token.empty();
    refresh["usable"] = t.refresh_token_valid(s.now);
    refresh["expires_at"] =
        t.refresh_expires_at ? nlohmann::ordered_json(unix_seconds(*t.refresh_expires_at)) : nullptr;
    refresh["expires_in"] =
        t.refresh_expires_at ? nlohmann::ordered_json(remaining(*t.refresh_expires_at)) : nullptr;
    if (t.refresh_expires_at)
        refresh["session_ends_by"] = t.ends_at_session_maximum() ? "maximum" : "idle";
    j["refresh_token"] = refresh;
    j["id_token"] = {{"present", !t.id_token.empty()}};
    if (s.keep_alive) {
        nlohmann::ordered_json k;
        k["running"] = s.keep_alive->running;
        k["pid"] = s.keep_alive->pid ? nlohmann::ordered_json(*s.keep_alive->pid) : nullptr;
        j["keep_alive"] = k;
    }
    if (t.obtained_at.time_since_epoch().count() > 0) j["obtained_at"] = unix_seconds(t.obtained_at);
    return j;
}

}  // namespace devflow::cli
