// detail/etcd_json.hpp: the reader of etcd's nested JSON answers and the
// quoting of its requests.
#include <devflow/adapters/detail/etcd_json.hpp>

#include "catch.hpp"

#include <string>

namespace etcd = devflow::detail::etcd;
using kind = etcd::json_node::kind;

TEST_CASE("etcd_json reads a range answer with nested kvs", "[etcd_json]") {
    const auto n = etcd::parse_json(
        R"({"header":{"cluster_id":"14841639068965178418","revision":"7","raft_term":"2"},)"
        R"("kvs":[{"key":"YQ==","create_revision":"5","mod_revision":"7","version":"2","value":"Yg=="}],"count":"1"})");
    REQUIRE(n);
    REQUIRE(n->get("kvs"));
    REQUIRE(n->get("kvs")->type == kind::array);
    const auto& kv = n->get("kvs")->items.at(0);
    CHECK(etcd::int_field(kv, "mod_revision") == 7);
    CHECK(etcd::int_field(kv, "lease") == 0);  // absent: zero, as etcd leaves it out
    CHECK(kv.get("value")->text == "Yg==");
    CHECK(etcd::int_field(*n->get("header"), "cluster_id") == std::nullopt);  // past int64
    CHECK(n->get("missing") == nullptr);
}

TEST_CASE("etcd_json reads literals numbers and escapes", "[etcd_json]") {
    const auto n = etcd::parse_json(
        " {\"t\":true,\"f\":false,\"z\":null,\"n\":-12,\"d\":1.5e3,\"s\":\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\n\"} ");
    REQUIRE(n);
    CHECK(n->get("t")->boolean);
    CHECK(n->get("f")->type == kind::boolean);
    CHECK_FALSE(n->get("f")->boolean);
    CHECK(n->get("z")->type == kind::null);
    CHECK(etcd::int_field(*n, "n") == -12);
    CHECK(etcd::int_field(*n, "d") == std::nullopt);
    CHECK(n->get("s")->text == "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\n");
}

TEST_CASE("etcd_json refuses what is not one JSON value", "[etcd_json]") {
    for (const char* bad : {"", "{", "{\"a\":1,}", "{\"a\":1}x", "{\"a\" 1}", "[1 2]", "{\"a\":01}",
                            "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":1,\"a\":2}", "{a:1}",
                            "{\"a\":\"x\ty\"}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":tru}"}) {
        INFO(bad);
        CHECK_FALSE(etcd::parse_json(bad).has_value());
    }
    std::string deep(40, '[');
    deep += std::string(40, ']');
    CHECK_FALSE(etcd::parse_json(deep).has_value());
}

TEST_CASE("etcd_json quotes strings so they read back the same", "[etcd_json]") {
    const std::string tricky = std::string("a\"b\\c\n\x01") + "\xc3\xa9";
    const std::string quoted = etcd::quote(tricky);
    CHECK(quoted == "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"");
    const auto n = etcd::parse_json("{\"v\":" + quoted + "}");
    REQUIRE(n);
    CHECK(n->get("v")->text == tricky);
}
