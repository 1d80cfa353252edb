// devflow — testing::fake_authorization_server: an RFC 8628 authorization
// server in memory, on top of fake_http and fake_clock. In strict mode it
// behaves like Keycloak: a poll sooner than the interval gets slow_down and
// raises the interval by 5 s. Part of devflow/testing.hpp.
#pragma once

#include <devflow/config.hpp>
#include <devflow/testing/fake_clock.hpp>
#include <devflow/testing/fake_http.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace devflow::testing {

/// How the fake authorization server behaves. Defaults follow a Keycloak
/// realm: 5-minute access tokens, 30-minute idle and 10-hour maximum sessions.
struct server_options {
    std::string issuer = "https://auth.example.com/realms/test";
    std::string client_id = "devflow-cli";
    std::string client_secret;  ///< non-empty: the client must use client_secret_basic
    std::chrono::seconds interval{5};
    bool send_interval = true;  ///< include `interval` in the device authorization answer
    std::chrono::seconds device_code_lifetime{600};
    std::chrono::seconds access_token_lifetime{300};
    std::chrono::seconds session_idle{1800};
    std::chrono::seconds session_max{36000};
    bool rotate_refresh_tokens = true;
    bool send_refresh_expires_in = true;  ///< Keycloak's refresh_expires_in
    /// Keycloak-like pacing: a poll sooner than the interval (since the
    /// previous poll, or since the answer for the first one) gets slow_down.
    bool strict = true;
    /// The user approves on this poll of a device code (1 = the first).
    int approve_on_poll = 3;
    /// Keycloak counts lifetimes in whole seconds: a token issued at 12.9 s
    /// with `expires_in: 3` dies at 15 s, not 15.9 s (and so does a device
    /// code). Off: lifetimes count from the exact moment of issue.
    bool whole_seconds = false;
};

/// An authorization server for tests: device authorization, token (device
/// code and refresh grants, with rotation and replay detection), revocation.
/// Every token it issues contains "CANARY" so tests can prove none leaks.
class fake_authorization_server {
public:
    using seconds = std::chrono::seconds;

    /// Installs the server's endpoints on `http`, timed by `clock`.
    fake_authorization_server(fake_http http, fake_clock clock, server_options options = {})
        : state_(std::make_shared<state>(std::move(clock), std::move(options))) {
        // The routes hold the server weakly: no ownership cycle through fake_http.
        std::weak_ptr<state> weak = state_;
        auto route = [weak](http_response (state::*endpoint)(const recorded_request&)) {
            return [weak, endpoint](const recorded_request& r) {
                if (auto s = weak.lock()) return ((*s).*endpoint)(r);
                return respond(503, R"({"error":"temporarily_unavailable"})");
            };
        };
        http.handle(device_endpoint(), route(&state::device));
        http.handle(token_endpoint(), route(&state::token));
        http.handle(revocation_endpoint(), route(&state::revoke));
    }

    [[nodiscard]] std::string device_endpoint() const {
        return state_->options.issuer + "/protocol/openid-connect/auth/device";
    }
    [[nodiscard]] std::string token_endpoint() const {
        return state_->options.issuer + "/protocol/openid-connect/token";
    }
    [[nodiscard]] std::string revocation_endpoint() const {
        return state_->options.issuer + "/protocol/openid-connect/revoke";
    }
    [[nodiscard]] std::string verification_uri() const {
        return state_->options.issuer + "/device";
    }

    /// A client_config pointing at this server.
    [[nodiscard]] client_config config(std::vector<std::string> scopes = {"openid", "profile"}) const {
        client_config c;
        c.issuer = state_->options.issuer;
        c.device_authorization_endpoint = device_endpoint();
        c.token_endpoint = token_endpoint();
        c.revocation_endpoint = revocation_endpoint();
        c.client_id = state_->options.client_id;
        if (!state_->options.client_secret.empty())
            c.client_secret = secret{state_->options.client_secret};
        c.scopes = std::move(scopes);
        return c;
    }

    /// The user denies every pending (and future) device code.
    void deny() {
        std::lock_guard lock(state_->mutex);
        state_->deny = true;
    }

    /// The user approves on poll `n` of each device code.
    void approve_on_poll(int n) {
        std::lock_guard lock(state_->mutex);
        state_->options.approve_on_poll = n;
    }

    /// Revokes every access token issued so far, leaving the sessions (and
    /// their refresh tokens) alive: what a resource server then sees is a
    /// token revoked before its expiry (RFC 7009 §2.1, RFC 6750 §3.1).
    void revoke_access_tokens() {
        std::lock_guard lock(state_->mutex);
        for (auto& [id, session] : state_->sessions) state_->revoked_access.push_back(session.access_token);
    }

    /// A resource endpoint at `url` on `http` that answers 200 `{"ok":true}` to
    /// a request whose Bearer token accepts() takes, else 401 with
    /// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
    void serve_resource(fake_http& http, const std::string& url) {
        std::weak_ptr<state> weak = state_;
        http.handle(url, [weak](const recorded_request& r) {
            const auto s = weak.lock();
            const std::string auth = r.header("authorization");
            bool ok = false;
            if (s && auth.rfind("Bearer ", 0) == 0) {
                std::lock_guard lock(s->mutex);
                ok = s->accepts(auth.substr(7));
            }
            if (ok) return respond(200, R"({"ok":true})");
            return respond(401, R"({"error":"invalid_token"})",
                           {{"WWW-Authenticate", R"(Bearer realm="api", error="invalid_token")"}});
        });
    }

    /// Ends every session at the server (as an admin would).
    void end_all_sessions() {
        std::lock_guard lock(state_->mutex);
        for (auto& [id, session] : state_->sessions) session.revoked = true;
    }

    /// Device authorization requests received.
    [[nodiscard]] int device_authorizations() const { return read(&state::device_authorizations); }
    /// Device-code polls received.
    [[nodiscard]] int polls() const { return read(&state::polls); }
    /// slow_down answers sent.
    [[nodiscard]] int slow_downs() const { return read(&state::slow_downs); }
    /// Refresh-token grant requests received.
    [[nodiscard]] int refreshes() const { return read(&state::refreshes); }
    /// Successful refreshes.
    [[nodiscard]] int successful_refreshes() const { return read(&state::successful_refreshes); }
    /// Revocation requests received.
    [[nodiscard]] int revocations() const { return read(&state::revocations); }

    /// When `access_token` really expires at the server (std::nullopt for a
    /// token it never issued or no longer knows).
    [[nodiscard]] std::optional<std::chrono::system_clock::time_point> access_token_expiry(
        const std::string& access_token) const {
        std::lock_guard lock(state_->mutex);
        for (const auto& [id, s] : state_->sessions)
            if (s.access_token == access_token) return s.access_expires_at;
        return std::nullopt;
    }

    /// Polls that arrived with a device code that had already expired.
    [[nodiscard]] int polls_after_expiry() const { return read(&state::polls_after_expiry); }

    /// True when `access_token` was issued and its session is alive and the
    /// token has not expired: what a resource server would check.
    [[nodiscard]] bool accepts(const std::string& access_token) const {
        std::lock_guard lock(state_->mutex);
        return state_->accepts(access_token);
    }

private:
    struct device_code_state {
        std::string user_code;
        std::chrono::steady_clock::time_point issued_at;
        std::chrono::steady_clock::time_point last_poll;
        seconds interval;
        int polls = 0;
        bool used = false;
        int session = -1;
    };
    struct session_state {
        std::string access_token;
        std::string refresh_token;
        std::vector<std::string> old_refresh_tokens;
        std::chrono::system_clock::time_point started, last_refresh, access_expires_at;
        bool revoked = false;
    };

    struct state {
        state(fake_clock c, server_options o) : clock(std::move(c)), options(std::move(o)) {}
        fake_clock clock;
        server_options options;
        mutable std::mutex mutex;
        std::map<std::string, device_code_state> codes;
        std::map<int, session_state> sessions;
        int next_id = 1;
        bool deny = false;
        int device_authorizations = 0, polls = 0, slow_downs = 0, refreshes = 0,
            successful_refreshes = 0, revocations = 0, polls_after_expiry = 0;
        std::vector<std::string> revoked_access;

        // The caller holds `mutex`.
        bool accepts(const std::string& access_token) const {
            if (std::find(revoked_access.begin(), revoked_access.end(), access_token) !=
                revoked_access.end())
                return false;
            const auto now = clock.now();
            for (const auto& [id, s] : sessions)
                if (s.access_token == access_token)
                    return !s.revoked && now < s.access_expires_at && alive(s, now);
            return false;
        }

        /// The moment lifetimes count from: now, or the start of the current
        /// second when the server counts in whole seconds (Keycloak).
        std::chrono::system_clock::time_point issue_time(std::chrono::system_clock::time_point now) const {
            if (!options.whole_seconds) return now;
            return std::chrono::floor<seconds>(now);
        }

        static http_response error(int status, const std::string& code, const std::string& description = {}) {
            std::string body = R"({"error":")" + code + '"';
            if (!description.empty()) body += R"(,"error_description":")" + description + '"';
            body += '}';
            return respond(status, body);
        }

        bool authenticated(const recorded_request& r) const {
            if (options.client_secret.empty())
                return r.field("client_id") == options.client_id && r.header("authorization").empty();
            // client_secret_basic only; never both Basic and client_id in the body.
            return !r.has_field("client_id") &&
                   r.header("authorization") ==
                       detail::basic_authorization(options.client_id, secret{options.client_secret}).reveal();
        }

        bool alive(const session_state& s, std::chrono::system_clock::time_point now) const {
            return !s.revoked && now < s.last_refresh + options.session_idle &&
                   now < s.started + options.session_max;
        }

        std::string issue(session_state& s, std::chrono::system_clock::time_point now, int id) {
            const int n = next_id++;
            s.access_token = "CANARY-access-" + std::to_string(id) + "-" + std::to_string(n);
            s.access_expires_at = issue_time(now) + options.access_token_lifetime;
            std::string body = R"({"access_token":")" + s.access_token +
                               R"(","token_type":"Bearer","expires_in":)" +
                               std::to_string(options.access_token_lifetime.count());
            const bool new_refresh = s.refresh_token.empty() || options.rotate_refresh_tokens;
            if (new_refresh) {
                if (!s.refresh_token.empty()) s.old_refresh_tokens.push_back(s.refresh_token);
                s.refresh_token = "CANARY-refresh-" + std::to_string(id) + "-" + std::to_string(n);
                body += R"(,"refresh_token":")" + s.refresh_token + '"';
            }
            if (options.send_refresh_expires_in) {
                const auto left = std::chrono::duration_cast<seconds>(s.started + options.session_max - issue_time(now));
                body += R"(,"refresh_expires_in":)" +
                        std::to_string(std::min(options.session_idle, left).count());
            }
            body += R"(,"scope":"openid profile","id_token":"CANARY-id-)" + std::to_string(n) + "\"}";
            return body;
        }

        http_response device(const recorded_request& r) {
            std::lock_guard lock(mutex);
            ++device_authorizations;
            if (!authenticated(r)) return error(401, "invalid_client");
            const int n = next_id++;
            const std::string code = "CANARY-device-" + std::to_string(n);
            device_code_state d;
            d.user_code = "WDJB-MJH" + std::to_string(n % 10);
            // In whole seconds, the code's life starts at the start of this second.
            d.issued_at = clock.steady_now() - (clock.now() - issue_time(clock.now()));
            d.last_poll = d.issued_at;
            d.interval = options.interval;
            codes[code] = d;
            std::string body = R"({"device_code":")" + code + R"(","user_code":")" + d.user_code +
                               R"(","verification_uri":")" + options.issuer + R"(/device")" +
                               R"(,"verification_uri_complete":")" + options.issuer +
                               "/device?user_code=" + d.user_code + R"(","expires_in":)" +
                               std::to_string(options.device_code_lifetime.count());
            if (options.send_interval) body += R"(,"interval":)" + std::to_string(options.interval.count());
            body += '}';
            return respond(200, body);
        }

        http_response token(const recorded_request& r) {
            std::lock_guard lock(mutex);
            if (!authenticated(r)) return error(401, "invalid_client");
            const std::string grant = r.field("grant_type");
            if (grant == "urn:ietf:params:oauth:grant-type:device_code") return poll(r);
            if (grant == "refresh_token") return refresh(r);
            return error(400, "unsupported_grant_type");
        }

        http_response poll(const recorded_request& r) {
            ++polls;
            const auto it = codes.find(r.field("device_code"));
            if (it == codes.end()) return error(400, "invalid_grant", "unknown device code");
            device_code_state& d = it->second;
            const auto now = clock.steady_now();
            if (now >= d.issued_at + options.device_code_lifetime) {
                ++polls_after_expiry;
                return error(400, "expired_token");
            }
            if (d.used) {
                // Polling again after success: the issued tokens are revoked.
                sessions[d.session].revoked = true;
                return error(400, "invalid_grant", "device code already used");
            }
            const auto since = now - d.last_poll;
            d.last_poll = now;
            if (options.strict && since < d.interval) {
                // RFC 8628 §3.5 as Keycloak enforces it: too soon, interval += 5 s.
                d.interval += seconds{5};
                ++slow_downs;
                return error(400, "slow_down");
            }
            ++d.polls;
            if (deny) return error(400, "access_denied", "The end-user denied the authorization request");
            if (d.polls < options.approve_on_poll) return error(400, "authorization_pending");
            d.used = true;
            const int id = next_id++;
            session_state s;
            s.started = s.last_refresh = issue_time(clock.now());
            std::string body = issue(s, s.started, id);
            d.session = id;
            sessions[id] = std::move(s);
            return respond(200, body);
        }

        http_response refresh(const recorded_request& r) {
            ++refreshes;
            const std::string token = r.field("refresh_token");
            const auto now = clock.now();
            for (auto& [id, s] : sessions) {
                const bool old = std::find(s.old_refresh_tokens.begin(), s.old_refresh_tokens.end(),
                                           token) != s.old_refresh_tokens.end();
                if (old) {
                    // Replay of a rotated refresh token kills the whole grant.
                    s.revoked = true;
                    return error(400, "invalid_grant", "refresh token reused");
                }
                if (s.refresh_token != token) continue;
                if (!alive(s, now)) return error(400, "invalid_grant", "Session not active");
                s.last_refresh = issue_time(now);
                ++successful_refreshes;
                return respond(200, issue(s, now, id));
            }
            return error(400, "invalid_grant", "Invalid refresh token");
        }

        http_response revoke(const recorded_request& r) {
            std::lock_guard lock(mutex);
            ++revocations;
            if (!authenticated(r)) return error(401, "invalid_client");
            const std::string token = r.field("token");
            for (auto& [id, s] : sessions)
                if (s.refresh_token == token || s.access_token == token) s.revoked = true;
            return respond(200, "");
        }
    };

    int read(int state::*counter) const {
        std::lock_guard lock(state_->mutex);
        return (*state_).*counter;
    }

    std::shared_ptr<state> state_;
};

}  // namespace devflow::testing
