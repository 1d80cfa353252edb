// devflow — the stored token record and its key (docs/design.md §3: a token is
// only ever sent to the server that issued it). Pure; tested in
// tests/unit/record_test.cpp.
#pragma once

#include <devflow/config.hpp>
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

/// Who a record belongs to: issuer (or the token endpoint when no issuer is
/// configured), client_id and scopes.
struct record_identity {
    std::string issuer;
    std::string client_id;
    std::string scopes;

    friend bool operator==(const record_identity&, const record_identity&) = default;
};

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

/// Endpoints cached with the tokens so that a cached run needs no discovery.
struct cached_endpoints {
    std::string token_endpoint;
    std::string device_authorization_endpoint;
    std::string revocation_endpoint;
};

inline double to_unix_seconds(std::chrono::system_clock::time_point t) {
    return static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

inline std::chrono::system_clock::time_point from_unix_seconds(double s) {
    return std::chrono::system_clock::time_point{std::chrono::seconds{static_cast<long long>(s)}};
}

/// The record as a flat JSON object, ready for the Json policy to write.
inline json_object record_to_json(const record_identity& id, const token_set& t,
                                  const cached_endpoints& endpoints) {
    json_object o;
    o["devflow_record"] = json_value::make_number(record_version);
    o["issuer"] = json_value::make_string(id.issuer);
    o["client_id"] = json_value::make_string(id.client_id);
    o["requested_scope"] = json_value::make_string(id.scopes);
    o["access_token"] = json_value::make_string(t.access_token.reveal());
    o["token_type"] = json_value::make_string(t.token_type);
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
    return o;
}

/// How reading a record went.
enum class record_status {
    absent,   ///< the store holds no record (never returned by record_from_json)
    ok,       ///< usable, and it belongs to the expected identity
    corrupt,  ///< not a devflow record of a known version, or a field is bad
    foreign,  ///< a good record for another issuer, client or scope set
    newer,    ///< written by a newer devflow (a higher format version): leave it alone
};

/// A record read back.
struct parsed_record {
    record_status status = record_status::corrupt;
    token_set tokens;
    cached_endpoints endpoints;
    record_identity owner;  ///< whose record it is (ok and foreign)
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
    if (!issuer || !client || !scopes || !access) return out;
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
    t.access_token = secret{*access};
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
