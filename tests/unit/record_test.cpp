// detail/record.hpp: the stored token record and its key (docs/design.md §3: a
// token is only ever sent to the server that issued it).
#include <devflow/detail/record.hpp>

#include "catch.hpp"

#include <chrono>
#include <limits>
#include <string>

using devflow::client_config;
using devflow::json_object;
using devflow::json_value;
using devflow::secret;
using devflow::token_set;
using devflow::detail::cached_endpoints;
using devflow::detail::identity_of;
using devflow::detail::normalized_scopes;
using devflow::detail::record_from_json;
using devflow::detail::record_identity;
using devflow::detail::record_status;
using devflow::detail::record_to_json;
using devflow::detail::store_key;
using std::chrono::seconds;

namespace {

const std::chrono::system_clock::time_point t0{seconds{1'700'000'000}};

const record_identity me{"https://auth.example.com/realms/dev", "devflow-cli", "email openid"};

token_set full_tokens() {
    token_set t;
    t.access_token = secret{"CANARY-access"};
    t.token_type = "Bearer";
    t.obtained_at = t0;
    t.expires_at = t0 + seconds{300};
    t.refresh_token = secret{"CANARY-refresh"};
    t.refresh_expires_at = t0 + seconds{1800};
    t.scope = "openid email profile";
    t.id_token = secret{"CANARY-id"};
    return t;
}

token_set minimal_tokens() {
    token_set t;
    t.access_token = secret{"CANARY-access-min"};
    t.token_type = "Bearer";
    t.obtained_at = t0;
    return t;
}

const cached_endpoints endpoints{"https://auth.example.com/token", "https://auth.example.com/device",
                                 "https://auth.example.com/revoke"};

}  // namespace

TEST_CASE("normalized_scopes ignores order duplicates and empty scopes", "[record]") {
    CHECK(normalized_scopes({"openid", "email", "profile"}) == "email openid profile");
    CHECK(normalized_scopes({"profile", "openid", "email", "openid", ""}) == "email openid profile");
    CHECK(normalized_scopes({}) == "");
    CHECK(normalized_scopes({"", ""}) == "");
}

TEST_CASE("identity_of uses the issuer or else the token endpoint", "[record]") {
    client_config cfg;
    cfg.issuer = "https://auth.example.com/realms/dev";
    cfg.token_endpoint = "https://auth.example.com/realms/dev/protocol/openid-connect/token";
    cfg.client_id = "devflow-cli";
    cfg.scopes = {"openid", "email", "openid"};
    CHECK(identity_of(cfg) == me);
    cfg.issuer.clear();
    CHECK(identity_of(cfg).issuer == cfg.token_endpoint);
}

TEST_CASE("store_key differs by issuer client and scopes but not by scope order", "[record]") {
    const std::string key = store_key(me);
    CHECK(store_key({"https://auth.example.com/realms/prod", me.client_id, me.scopes}) != key);
    CHECK(store_key({me.issuer, "other-client", me.scopes}) != key);
    CHECK(store_key({me.issuer, me.client_id, "openid"}) != key);
    CHECK(store_key({me.issuer, me.client_id, ""}) != key);
    CHECK(store_key({me.issuer, me.client_id, normalized_scopes({"openid", "email"})}) == key);
    // Parts cannot run into each other.
    CHECK(store_key({"ab", "c", ""}) != store_key({"a", "bc", ""}));
}

TEST_CASE("a record round-trips with every optional field", "[record]") {
    const json_object o = record_to_json(me, full_tokens(), endpoints);
    const auto back = record_from_json(o, me);
    REQUIRE(back.status == record_status::ok);
    const token_set& t = back.tokens;
    CHECK(t.access_token.reveal() == "CANARY-access");
    CHECK(t.token_type == "Bearer");
    CHECK(t.obtained_at == t0);
    CHECK(t.expires_at == t0 + seconds{300});
    CHECK(t.refresh_token.reveal() == "CANARY-refresh");
    CHECK(t.refresh_expires_at == t0 + seconds{1800});
    CHECK(t.scope == "openid email profile");
    CHECK(t.id_token.reveal() == "CANARY-id");
    CHECK(back.endpoints.token_endpoint == endpoints.token_endpoint);
    CHECK(back.endpoints.device_authorization_endpoint == endpoints.device_authorization_endpoint);
    CHECK(back.endpoints.revocation_endpoint == endpoints.revocation_endpoint);
}

TEST_CASE("a record round-trips without the optional fields", "[record]") {
    const json_object o = record_to_json(me, minimal_tokens(), cached_endpoints{});
    CHECK(o.count("expires_at") == 0);
    CHECK(o.count("refresh_token") == 0);
    CHECK(o.count("refresh_expires_at") == 0);
    CHECK(o.count("id_token") == 0);
    CHECK(o.count("revocation_endpoint") == 0);
    const auto back = record_from_json(o, me);
    REQUIRE(back.status == record_status::ok);
    CHECK(back.tokens.access_token.reveal() == "CANARY-access-min");
    CHECK(back.tokens.obtained_at == t0);
    CHECK_FALSE(back.tokens.expires_at.has_value());
    CHECK(back.tokens.refresh_token.empty());
    CHECK_FALSE(back.tokens.refresh_expires_at.has_value());
    CHECK(back.tokens.scope.empty());
    CHECK(back.tokens.id_token.empty());
    CHECK(back.endpoints.token_endpoint.empty());
    CHECK(back.endpoints.revocation_endpoint.empty());
}

TEST_CASE("the record names its version and its identity", "[record]") {
    const json_object o = record_to_json(me, minimal_tokens(), endpoints);
    REQUIRE(o.count("devflow_record") == 1);
    CHECK(o.at("devflow_record").type == json_value::kind::number);
    CHECK(o.at("devflow_record").number == 1);
    CHECK(o.at("issuer").string == me.issuer);
    CHECK(o.at("client_id").string == me.client_id);
    CHECK(o.at("requested_scope").string == me.scopes);
}

TEST_CASE("a good record of another issuer client or scope set is foreign", "[record]") {
    const json_object o = record_to_json(me, full_tokens(), endpoints);
    for (const record_identity& other :
         {record_identity{"https://evil.example.com/realms/dev", me.client_id, me.scopes},
          record_identity{me.issuer, "other-client", me.scopes},
          record_identity{me.issuer, me.client_id, "openid"},
          record_identity{me.issuer + "/", me.client_id, me.scopes}}) {
        INFO(other.issuer << " | " << other.client_id << " | " << other.scopes);
        CHECK(record_from_json(o, other).status == record_status::foreign);
    }
}

TEST_CASE("a record of a newer format version is recognised as newer and not as corrupt "
          "(docs/security.md S13)",
          "[record][security]") {
    json_object o = record_to_json(me, full_tokens(), endpoints);
    for (double v : {2.0, 3.0, 17.0}) {
        o["devflow_record"] = json_value::make_number(v);
        CHECK(record_from_json(o, me).status == record_status::newer);
    }
    // A newer record need not look like ours at all.
    json_object alien;
    alien["devflow_record"] = json_value::make_number(2);
    alien["sealed"] = json_value::make_string("...");
    CHECK(record_from_json(alien, me).status == record_status::newer);
}

TEST_CASE("a record of an older or unknown version or without a version is corrupt", "[record]") {
    json_object o = record_to_json(me, full_tokens(), endpoints);
    for (const json_value& bad : {json_value::make_number(1.5), json_value::make_number(0),
                                  json_value::make_number(-1),
                                  json_value::make_string("1"), json_value::make_null()}) {
        o["devflow_record"] = bad;
        CHECK(record_from_json(o, me).status == record_status::corrupt);
    }
    o.erase("devflow_record");
    CHECK(record_from_json(o, me).status == record_status::corrupt);
    CHECK(record_from_json(json_object{}, me).status == record_status::corrupt);
}

TEST_CASE("a record without an access_token or an identity field is corrupt", "[record]") {
    for (const char* field : {"access_token", "issuer", "client_id", "requested_scope"}) {
        INFO(field);
        json_object missing = record_to_json(me, full_tokens(), endpoints);
        missing.erase(field);
        CHECK(record_from_json(missing, me).status == record_status::corrupt);
        json_object wrong_type = record_to_json(me, full_tokens(), endpoints);
        wrong_type[field] = json_value::make_number(7);
        CHECK(record_from_json(wrong_type, me).status == record_status::corrupt);
    }
}

TEST_CASE("a record with a bad time field is corrupt", "[record]") {
    for (const char* field : {"expires_at", "refresh_expires_at", "obtained_at"}) {
        for (const json_value& bad :
             {json_value::make_string("1700000000"), json_value::make_number(-1),
              json_value::make_null(), json_value::make_bool(true),
              json_value::make_number(std::numeric_limits<double>::infinity()),
              json_value::make_number(std::numeric_limits<double>::quiet_NaN())}) {
            INFO(field);
            json_object o = record_to_json(me, full_tokens(), endpoints);
            o[field] = bad;
            CHECK(record_from_json(o, me).status == record_status::corrupt);
        }
    }
}

TEST_CASE("a record with a time beyond the range of system_clock is corrupt", "[record]") {
    // system_clock counts nanoseconds in 64 bits (until April 2262): a larger
    // value cannot be represented and must be refused, not wrapped around.
    for (const char* field : {"expires_at", "refresh_expires_at", "obtained_at"}) {
        for (double bad : {1e300, 1e19, 1e11}) {
            INFO(field << " = " << bad);
            json_object o = record_to_json(me, full_tokens(), endpoints);
            o[field] = json_value::make_number(bad);
            CHECK(record_from_json(o, me).status == record_status::corrupt);
        }
    }
}
