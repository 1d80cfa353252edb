// devflow — the stored token record and its key (docs/design.md §3: a token is
// only ever sent to the server that issued it). Pure; tested in
// tests/unit/record_test.cpp.
#pragma once

#include <devflow/config.hpp>
#include <devflow/stored_session.hpp>
#include <devflow/detail/scopes.hpp>
#include <devflow/detail/json_fields.hpp>
#include <devflow/types.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace devflow::detail {

/// The record format version written by this library.
inline constexpr double record_version = 1;

/// Who a record belongs to (devflow::record_owner).
using record_identity = devflow::record_owner;

inline record_identity identity_of(const client_config& cfg) {
    return {cfg.issuer.empty() ? cfg.token_endpoint : cfg.issuer, cfg.client_id,
            normalized_scopes(cfg.scopes)};
}

/// "client \"C\" at ISSUER (scopes: S)", for messages (made safe by the caller).
inline std::string describe_identity(const record_identity& id) {
    return "client \"" + id.client_id + "\" at " + id.issuer +
           (id.scopes.empty() ? std::string(" (no scopes)") : " (scopes: " + id.scopes + ")");
}

/// The token store key for an identity.
inline std::string store_key(const record_identity& id) {
    return id.issuer + '\n' + id.client_id + '\n' + id.scopes;
}

inline double to_unix_seconds(std::chrono::system_clock::time_point t) {
    return static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

inline std::chrono::system_clock::time_point from_unix_seconds(double s) {
    return std::chrono::system_clock::time_point{std::chrono::seconds{static_cast<long long>(s)}};
}

/// The record as a flat JSON object, ready for the Json policy to write. A
/// record may hold no tokens (a first sign-in in progress): then it holds a
/// pending authorization.
inline json_object record_to_json(const record_identity& id, const token_set& t,
                                  const cached_endpoints& endpoints,
                                  const std::optional<pending_authorization>& pending = std::nullopt) {
    json_object o;
    o["devflow_record"] = json_value::make_number(record_version);
    o["issuer"] = json_value::make_string(id.issuer);
    o["client_id"] = json_value::make_string(id.client_id);
    o["requested_scope"] = json_value::make_string(id.scopes);
    if (!t.access_token.empty() || !pending) {
        o["access_token"] = json_value::make_string(t.access_token.reveal());
        o["token_type"] = json_value::make_string(t.token_type);
    }
    if (t.expires_at) o["expires_at"] = json_value::make_number(to_unix_seconds(*t.expires_at));
    if (!t.refresh_token.empty())
        o["refresh_token"] = json_value::make_string(t.refresh_token.reveal());
    if (t.refresh_expires_at)
        o["refresh_expires_at"] = json_value::make_number(to_unix_seconds(*t.refresh_expires_at));
    if (!t.scope.empty()) o["scope"] = json_value::make_string(t.scope);
    if (!t.id_token.empty()) o["id_token"] = json_value::make_string(t.id_token.reveal());
    o["obtained_at"] = json_value::make_number(to_unix_seconds(t.obtained_at));
    if (t.session_idle_limit)
        o["session_idle_limit"] = json_value::make_number(static_cast<double>(t.session_idle_limit->count()));
    if (!endpoints.token_endpoint.empty())
        o["token_endpoint"] = json_value::make_string(endpoints.token_endpoint);
    if (!endpoints.device_authorization_endpoint.empty())
        o["device_authorization_endpoint"] =
            json_value::make_string(endpoints.device_authorization_endpoint);
    if (!endpoints.revocation_endpoint.empty())
        o["revocation_endpoint"] = json_value::make_string(endpoints.revocation_endpoint);
    if (pending) {
        o["pending_device_code"] = json_value::make_string(pending->device_code.reveal());
        o["pending_user_code"] = json_value::make_string(pending->user_code);
        o["pending_verification_uri"] = json_value::make_string(pending->verification_uri);
        if (!pending->verification_uri_complete.empty())
            o["pending_verification_uri_complete"] =
                json_value::make_string(pending->verification_uri_complete);
        o["pending_expires_at"] = json_value::make_number(to_unix_seconds(pending->expires_at));
        o["pending_interval"] =
            json_value::make_number(static_cast<double>(pending->interval.count()));
    }
    return o;
}

// The record's public vocabulary (devflow/stored_session.hpp), under the
// names detail/ has always used.
using devflow::cached_endpoints;
using devflow::pending_authorization;
using devflow::record_status;

/// A record read back.
struct parsed_record {
    record_status status = record_status::corrupt;
    token_set tokens;
    cached_endpoints endpoints;
    record_identity owner;  ///< whose record it is (ok and foreign)
    std::optional<pending_authorization> pending;  ///< a sign-in in progress
};

/// Reads a record and checks it belongs to `expected`.
inline parsed_record record_from_json(const json_object& o, const record_identity& expected) {
    parsed_record out;
    const auto version = o.find("devflow_record");
    if (version == o.end() || version->second.type != json_value::kind::number) return out;
    if (version->second.number > record_version && std::isfinite(version->second.number) &&
        std::trunc(version->second.number) == version->second.number) {
        // A newer devflow wrote it: not corrupt, just not ours to read or replace.
        out.status = record_status::newer;
        return out;
    }
    if (version->second.number != record_version) return out;
    const auto issuer = string_field(o, "issuer");
    const auto client = string_field(o, "client_id");
    const auto scopes = string_field(o, "requested_scope");
    const auto access = string_field(o, "access_token");
    // A pending sign-in, when the record holds one: all of it, or the record is corrupt.
    if (o.find("pending_device_code") != o.end()) {
        pending_authorization p;
        const auto code = string_field(o, "pending_device_code");
        const auto user = string_field(o, "pending_user_code");
        const auto uri = string_field(o, "pending_verification_uri");
        const auto expires = o.find("pending_expires_at");
        const auto interval = seconds_field(o, "pending_interval", std::chrono::seconds{3600});
        if (!code || code->empty() || !user || user->empty() || !uri || uri->empty() ||
            expires == o.end() || expires->second.type != json_value::kind::number ||
            !std::isfinite(expires->second.number) || expires->second.number < 0 ||
            expires->second.number > 9.0e9 || interval.status != seconds_status::ok ||
            interval.value.count() < 1)
            return out;
        p.device_code = secret{*code};
        p.user_code = std::string(*user);
        p.verification_uri = std::string(*uri);
        if (auto c = string_field(o, "pending_verification_uri_complete"))
            p.verification_uri_complete = std::string(*c);
        p.expires_at = from_unix_seconds(expires->second.number);
        p.interval = interval.value;
        out.pending = std::move(p);
    }
    if (!issuer || !client || !scopes || (!access && !out.pending)) return out;
    auto time_field = [&](std::string_view name, std::optional<std::chrono::system_clock::time_point>& dst) {
        const auto it = o.find(name);
        if (it == o.end()) return true;
        // Seconds since 1970 that a system_clock time point can hold (to 2262).
        constexpr double max_unix_seconds = 9.0e9;
        if (it->second.type != json_value::kind::number || !std::isfinite(it->second.number) ||
            it->second.number < 0 || it->second.number > max_unix_seconds)
            return false;
        dst = from_unix_seconds(it->second.number);
        return true;
    };
    token_set& t = out.tokens;
    std::optional<std::chrono::system_clock::time_point> obtained;
    if (!time_field("expires_at", t.expires_at) ||
        !time_field("refresh_expires_at", t.refresh_expires_at) || !time_field("obtained_at", obtained))
        return out;
    t.obtained_at = obtained.value_or(std::chrono::system_clock::time_point{});
    if (access) t.access_token = secret{*access};
    t.token_type = "Bearer";
    if (auto r = string_field(o, "refresh_token")) t.refresh_token = secret{*r};
    if (auto s = string_field(o, "scope")) t.scope = std::string(*s);
    if (auto id = string_field(o, "id_token")) t.id_token = secret{*id};
    if (const auto idle = seconds_field(o, "session_idle_limit", std::chrono::hours{24 * 3660});
        idle.status == seconds_status::ok)
        t.session_idle_limit = idle.value;
    if (auto e = string_field(o, "token_endpoint")) out.endpoints.token_endpoint = std::string(*e);
    if (auto e = string_field(o, "device_authorization_endpoint"))
        out.endpoints.device_authorization_endpoint = std::string(*e);
    if (auto e = string_field(o, "revocation_endpoint"))
        out.endpoints.revocation_endpoint = std::string(*e);
    out.owner = {std::string(*issuer), std::string(*client), std::string(*scopes)};
    out.status = out.owner == expected ? record_status::ok : record_status::foreign;
    return out;
}

}  // namespace devflow::detail
