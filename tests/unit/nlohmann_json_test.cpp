// Tests for devflow::nlohmann_json, the json_codec built on nlohmann/json.
#include "catch.hpp"

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/concepts.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

static_assert(devflow::json_codec<devflow::nlohmann_json>,
              "nlohmann_json must model devflow::json_codec");
static_assert(noexcept(devflow::nlohmann_json{}.parse(std::string_view{})),
              "parse must never throw");

namespace {

using devflow::json_object;
using devflow::json_value;
using kind = devflow::json_value::kind;

std::optional<json_object> parse(std::string_view text) {
    return devflow::nlohmann_json{}.parse(text);
}

std::string write(const json_object& object) {
    return devflow::nlohmann_json{}.write(object);
}

// `levels` nested objects: {"a":{"a":...{}...}}; the top-level object is level 1.
std::string nested_objects(std::size_t levels) {
    std::string text;
    for (std::size_t i = 1; i < levels; ++i) text += "{\"a\":";
    text += "{}";
    text.append(levels - 1, '}');
    return text;
}

// A top-level object holding `arrays` nested arrays: {"a":[[...]]}.
std::string nested_arrays(std::size_t arrays) {
    return "{\"a\":" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
}

const json_value& member(const json_object& object, std::string_view name) {
    auto it = object.find(name);
    REQUIRE(it != object.end());
    return it->second;
}

}  // namespace

TEST_CASE("nlohmann_json parses an object with every kind of member", "[nlohmann_json]") {
    auto parsed = parse(R"({"s":"text","n":42,"t":true,"f":false,"z":null,)"
                        R"("a":["x","y"],"o":{"k":"v"}})");
    REQUIRE(parsed);
    const json_object& o = *parsed;
    REQUIRE(o.size() == 7);
    CHECK(member(o, "s").type == kind::string);
    CHECK(member(o, "s").string == "text");
    CHECK(member(o, "n").type == kind::number);
    CHECK(member(o, "n").number == 42.0);
    CHECK(member(o, "t").type == kind::boolean);
    CHECK(member(o, "t").boolean);
    CHECK(member(o, "f").type == kind::boolean);
    CHECK_FALSE(member(o, "f").boolean);
    CHECK(member(o, "z").type == kind::null);
    CHECK(member(o, "a").type == kind::array);
    CHECK(member(o, "a").strings == std::vector<std::string>{"x", "y"});
    CHECK(member(o, "o").type == kind::object);
}

TEST_CASE("nlohmann_json parses an empty object", "[nlohmann_json]") {
    auto parsed = parse("{}");
    REQUIRE(parsed);
    CHECK(parsed->empty());
    auto spaced = parse(" \t\r\n{ \n } \r\n\t");
    REQUIRE(spaced);
    CHECK(spaced->empty());
}

TEST_CASE("nlohmann_json keeps every JSON number as a double", "[nlohmann_json]") {
    auto parsed = parse(R"({"int":-12,"frac":0.5,"exp":2.5e10,"small":1e-7,)"
                        R"("big":18446744073709551615,"huge":1e300,"zero":0})");
    REQUIRE(parsed);
    for (const auto& [name, value] : *parsed) {
        INFO(name);
        CHECK(value.type == kind::number);
    }
    CHECK(member(*parsed, "int").number == -12.0);
    CHECK(member(*parsed, "frac").number == 0.5);
    CHECK(member(*parsed, "exp").number == 25000000000.0);
    CHECK(member(*parsed, "small").number == 1e-7);
    CHECK(member(*parsed, "big").number == 18446744073709551615.0);
    CHECK(member(*parsed, "huge").number == 1e300);
    CHECK(member(*parsed, "zero").number == 0.0);
}

TEST_CASE("nlohmann_json round-trips large epoch seconds exactly", "[nlohmann_json]") {
    for (const char* text : {"1700000000", "4102444800", "253402300799", "9007199254740992"}) {
        INFO(text);
        auto parsed = parse(std::string(R"({"exp":)") + text + "}");
        REQUIRE(parsed);
        CHECK(member(*parsed, "exp").number == std::stod(text));
        CHECK(write(*parsed) == std::string(R"({"exp":)") + text + "}");
    }
    // Sent in exponent form it still comes back as the plain integer.
    auto parsed = parse(R"({"exp":1.7e9})");
    REQUIRE(parsed);
    CHECK(member(*parsed, "exp").number == 1700000000.0);
    CHECK(write(*parsed) == R"({"exp":1700000000})");
}

TEST_CASE("nlohmann_json decodes string escapes and unicode", "[nlohmann_json]") {
    auto parsed = parse(R"({"esc":"q\"b\\s\/b\bf\fn\nr\rt\t","e":"\u00e9",)"
                        R"("emoji":"\ud83d\ude00","raw":"é😀","nul":"a\u0000b"})");
    REQUIRE(parsed);
    CHECK(member(*parsed, "esc").string == "q\"b\\s/b\bf\fn\nr\rt\t");
    CHECK(member(*parsed, "e").string == "\xc3\xa9");
    CHECK(member(*parsed, "emoji").string == "\xf0\x9f\x98\x80");
    CHECK(member(*parsed, "raw").string == "\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(member(*parsed, "nul").string == std::string("a\0b", 3));
}

TEST_CASE("nlohmann_json decodes escaped member names", "[nlohmann_json]") {
    auto parsed = parse(R"({"acc\u0065ss_token":"t"})");
    REQUIRE(parsed);
    CHECK(member(*parsed, "access_token").string == "t");
}

TEST_CASE("nlohmann_json keeps a null member as kind null", "[nlohmann_json]") {
    auto parsed = parse(R"({"interval":null})");
    REQUIRE(parsed);
    REQUIRE(parsed->count("interval") == 1);
    CHECK(member(*parsed, "interval").type == kind::null);
}

TEST_CASE("nlohmann_json keeps only the direct string items of an array", "[nlohmann_json]") {
    auto parsed = parse(R"({"empty":[],"mixed":[1,"x",null,true,["y"],{"z":"w"},"v"]})");
    REQUIRE(parsed);
    CHECK(member(*parsed, "empty").type == kind::array);
    CHECK(member(*parsed, "empty").strings.empty());
    CHECK(member(*parsed, "mixed").type == kind::array);
    CHECK(member(*parsed, "mixed").strings == std::vector<std::string>{"x", "v"});
}

TEST_CASE("nlohmann_json keeps a nested object as kind object without its contents",
          "[nlohmann_json]") {
    auto parsed = parse(R"({"o":{"s":"secret","n":1,"a":["x"]},"after":"kept"})");
    REQUIRE(parsed);
    const json_value& o = member(*parsed, "o");
    CHECK(o.type == kind::object);
    CHECK(o.string.empty());
    CHECK(o.strings.empty());
    CHECK(member(*parsed, "after").string == "kept");
}

TEST_CASE("nlohmann_json rejects duplicate names at top level (RFC 8259 section 4)",
          "[nlohmann_json]") {
    CHECK_FALSE(parse(R"({"a":1,"a":2})"));
    CHECK_FALSE(parse(R"({"access_token":"x","access_token":"y"})"));
    CHECK_FALSE(parse(R"({"a":1,"b":2,"a":1})"));
    // Names are compared after unescaping.
    CHECK_FALSE(parse(R"({"a":1,"\u0061":2})"));
}

TEST_CASE("nlohmann_json rejects duplicate names in nested objects", "[nlohmann_json]") {
    CHECK_FALSE(parse(R"({"o":{"k":1,"k":2}})"));
    CHECK_FALSE(parse(R"({"a":[{"k":1,"k":2}]})"));
    CHECK_FALSE(parse(R"({"a":{"b":{"c":{"k":1,"x":[],"k":2}}}})"));
}

TEST_CASE("nlohmann_json accepts the same name in different objects", "[nlohmann_json]") {
    CHECK(parse(R"({"k":{"k":1}})"));
    CHECK(parse(R"({"a":{"k":1},"b":{"k":2}})"));
    CHECK(parse(R"({"a":[{"k":1},{"k":2}]})"));
    CHECK(parse(R"({"a":{"b":{"k":1},"k":2}})"));
}

TEST_CASE("nlohmann_json rejects a body that is not an object", "[nlohmann_json]") {
    for (const char* text : {"[]", "[{\"a\":1}]", "\"x\"", "1", "-1.5", "null", "true", "false"}) {
        INFO(text);
        CHECK_FALSE(parse(text));
    }
}

TEST_CASE("nlohmann_json rejects empty and whitespace-only input", "[nlohmann_json]") {
    CHECK_FALSE(parse(""));
    CHECK_FALSE(parse(std::string_view{}));
    CHECK_FALSE(parse(" "));
    CHECK_FALSE(parse("\r\n\t "));
}

TEST_CASE("nlohmann_json rejects truncated input", "[nlohmann_json]") {
    for (const char* text : {"{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "{\"a\":\"open",
                             "{\"a\":[1,2", "{\"a\":{\"b\":1}", "{\"a\":tru", "{\"a\":\"\\u00"}) {
        INFO(text);
        CHECK_FALSE(parse(text));
    }
}

TEST_CASE("nlohmann_json rejects every proper prefix of a valid body", "[nlohmann_json]") {
    const std::string body =
        R"({"access_token":"abc","expires_in":3600,"scope":["a","b"],"x":null,"o":{"k":true}})";
    REQUIRE(parse(body));
    for (std::size_t n = 0; n < body.size(); ++n) {
        INFO(n);
        CHECK_FALSE(parse(std::string_view(body).substr(0, n)));
    }
}

TEST_CASE("nlohmann_json rejects trailing bytes after the object", "[nlohmann_json]") {
    CHECK_FALSE(parse("{} x"));
    CHECK_FALSE(parse("{}{}"));
    CHECK_FALSE(parse("{},"));
    CHECK_FALSE(parse(R"({"a":1}])"));
    CHECK_FALSE(parse(R"({"a":1}})"));
    CHECK_FALSE(parse("{}//"));
    // A NUL byte is data, not the end of the input.
    CHECK_FALSE(parse(std::string_view("{}\0", 3)));
    CHECK_FALSE(parse(std::string_view("{}\0garbage", 10)));
    // Whitespace after the object is fine.
    CHECK(parse("{\"a\":1} \r\n\t"));
}

TEST_CASE("nlohmann_json rejects a raw NUL byte anywhere in the input", "[nlohmann_json]") {
    using namespace std::string_view_literals;
    CHECK_FALSE(parse("\0{}"sv));
    CHECK_FALSE(parse("{\0}"sv));
    CHECK_FALSE(parse("{\"a\":\"x\0y\"}"sv));
    CHECK_FALSE(parse("{\"a\":1\0}"sv));
    CHECK_FALSE(parse("{\"a\":1}\0\0"sv));
    // The escaped form is a valid string holding a NUL.
    CHECK(parse(R"({"a":"x\u0000y"})"));
}

TEST_CASE("nlohmann_json rejects syntax that JSON does not allow", "[nlohmann_json]") {
    for (const char* text :
         {"{'a':1}", "{a:1}", "{\"a\":1,}", "{\"a\":[1,]}", "{\"a\" 1}", "{\"a\":01}",
          "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":Infinity}",
          "{\"a\":0x10}", "{/*c*/\"a\":1}", "{\"a\":1}//c", "{\"a\":\"\\x41\"}",
          "{\"a\":\"tab\there\"}", "{\"a\":\"\x01\"}"}) {
        INFO(text);
        CHECK_FALSE(parse(text));
    }
}

TEST_CASE("nlohmann_json rejects a number too large for a double", "[nlohmann_json]") {
    CHECK_FALSE(parse(R"({"a":1e400})"));
    CHECK_FALSE(parse(R"({"a":-1e400})"));
}

TEST_CASE("nlohmann_json accepts nesting at exactly max_depth", "[nlohmann_json]") {
    constexpr std::size_t limit = devflow::nlohmann_json::max_depth;
    auto objects = parse(nested_objects(limit));
    REQUIRE(objects);
    CHECK(member(*objects, "a").type == kind::object);
    // The top-level object plus limit - 1 arrays is limit containers deep.
    auto arrays = parse(nested_arrays(limit - 1));
    REQUIRE(arrays);
    CHECK(member(*arrays, "a").type == kind::array);
}

TEST_CASE("nlohmann_json rejects nesting one past max_depth", "[nlohmann_json]") {
    constexpr std::size_t limit = devflow::nlohmann_json::max_depth;
    CHECK_FALSE(parse(nested_objects(limit + 1)));
    CHECK_FALSE(parse(nested_arrays(limit)));
}

TEST_CASE("nlohmann_json rejects very deep input without exhausting the stack",
          "[nlohmann_json]") {
    CHECK_FALSE(parse(nested_arrays(100000)));
    CHECK_FALSE(parse("{\"a\":" + std::string(200000, '[')));
}

TEST_CASE("nlohmann_json accepts input of exactly max_size bytes", "[nlohmann_json]") {
    constexpr std::size_t limit = devflow::nlohmann_json::max_size;
    std::string padded = R"({"a":"x"})";
    padded.append(limit - padded.size(), ' ');
    REQUIRE(padded.size() == limit);
    auto parsed = parse(padded);
    REQUIRE(parsed);
    CHECK(member(*parsed, "a").string == "x");

    const std::string head = R"({"big":")";
    std::string big = head + std::string(limit - head.size() - 2, 'v') + "\"}";
    REQUIRE(big.size() == limit);
    auto parsed_big = parse(big);
    REQUIRE(parsed_big);
    CHECK(member(*parsed_big, "big").string.size() == limit - head.size() - 2);
}

TEST_CASE("nlohmann_json rejects input one byte past max_size", "[nlohmann_json]") {
    constexpr std::size_t limit = devflow::nlohmann_json::max_size;
    std::string padded = R"({"a":"x"})";
    padded.append(limit + 1 - padded.size(), ' ');
    REQUIRE(padded.size() == limit + 1);
    CHECK_FALSE(parse(padded));
}

TEST_CASE("nlohmann_json rejects invalid UTF-8", "[nlohmann_json]") {
    for (const char* text : {
             "{\"a\":\"\xff\"}",              // never valid in UTF-8
             "{\"a\":\"\xc0\xaf\"}",          // overlong encoding of '/'
             "{\"a\":\"\xe0\x80\xaf\"}",      // overlong three-byte encoding
             "{\"a\":\"\xe2\x82\"}",          // truncated sequence
             "{\"a\":\"\x80\"}",              // stray continuation byte
             "{\"a\":\"\xed\xa0\x80\"}",      // UTF-16 surrogate encoded in UTF-8
             "{\"a\":\"\xf4\x90\x80\x80\"}",  // past U+10FFFF
             "{\"\xff\":1}",                  // in a name
             "{\"a\":[\"\xff\"]}",            // in an array item
             "{\"a\":{\"b\":\"\xff\"}}",      // in a dropped nested object
             "{\"a\":1}\xff",                 // after the object
         }) {
        INFO(text);
        CHECK_FALSE(parse(text));
    }
}

TEST_CASE("nlohmann_json rejects unpaired surrogate escapes", "[nlohmann_json]") {
    CHECK_FALSE(parse(R"({"a":"\ud800"})"));
    CHECK_FALSE(parse(R"({"a":"\udc00"})"));
    CHECK_FALSE(parse(R"({"a":"\ud800x"})"));
    CHECK_FALSE(parse(R"({"a":"\ud800\u0041"})"));
}

TEST_CASE("nlohmann_json ignores a UTF-8 byte order mark (RFC 8259 section 8.1)",
          "[nlohmann_json]") {
    auto parsed = parse("\xef\xbb\xbf{\"a\":1}");
    REQUIRE(parsed);
    CHECK(member(*parsed, "a").number == 1.0);
    CHECK_FALSE(parse("\xef\xbb{\"a\":1}"));
}

TEST_CASE("nlohmann_json writes compact JSON", "[nlohmann_json]") {
    json_object o;
    o.emplace("s", json_value::make_string("t\"q\\"));
    o.emplace("n", json_value::make_number(3600));
    o.emplace("t", json_value::make_bool(true));
    o.emplace("f", json_value::make_bool(false));
    o.emplace("z", json_value::make_null());
    json_value a;
    a.type = kind::array;
    a.strings = {"x", "y"};
    o.emplace("a", a);
    json_value nested;
    nested.type = kind::object;
    o.emplace("o", nested);
    CHECK(write(o) == R"({"a":["x","y"],"f":false,"n":3600,"o":{},"s":"t\"q\\","t":true,"z":null})");
    CHECK(write(json_object{}) == "{}");
}

TEST_CASE("nlohmann_json writes integral numbers without a fraction", "[nlohmann_json]") {
    auto one = [](double n) {
        json_object o;
        o.emplace("n", json_value::make_number(n));
        return write(o);
    };
    CHECK(one(1700000000.0) == R"({"n":1700000000})");
    CHECK(one(0.0) == R"({"n":0})");
    CHECK(one(-3.0) == R"({"n":-3})");
    CHECK(one(9007199254740992.0) == R"({"n":9007199254740992})");
    CHECK(one(-9223372036854775808.0) == R"({"n":-9223372036854775808})");
}

TEST_CASE("nlohmann_json writes fractional and out-of-range numbers so they read back exactly",
          "[nlohmann_json]") {
    for (double n : {0.5, -1.25, 0.1, 1e-7, 3.141592653589793, 1e300, 9223372036854775808.0,
                     -1.7976931348623157e308}) {
        INFO(n);
        json_object o;
        o.emplace("n", json_value::make_number(n));
        const std::string text = write(o);
        const bool has_fraction_or_exponent =
            text.find('.') != std::string::npos || text.find('e') != std::string::npos;
        CHECK(has_fraction_or_exponent);
        auto back = parse(text);
        REQUIRE(back);
        CHECK(member(*back, "n").number == n);
    }
    json_object half;
    half.emplace("n", json_value::make_number(0.5));
    CHECK(write(half) == R"({"n":0.5})");
}

TEST_CASE("nlohmann_json writes NaN and infinities as null", "[nlohmann_json]") {
    for (double n : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
        json_object o;
        o.emplace("n", json_value::make_number(n));
        CHECK(write(o) == R"({"n":null})");
    }
}

TEST_CASE("nlohmann_json escapes control characters when writing", "[nlohmann_json]") {
    json_object o;
    o.emplace("s", json_value::make_string(std::string("a\nb\x01\tc\0d", 8)));
    CHECK(write(o) == R"({"s":"a\nb\u0001\tc\u0000d"})");
}

TEST_CASE("nlohmann_json replaces invalid UTF-8 when writing instead of throwing",
          "[nlohmann_json]") {
    json_object o;
    o.emplace("s", json_value::make_string("a\xff" "b"));
    json_value a;
    a.type = kind::array;
    a.strings = {"\xc0\xaf"};
    o.emplace("a", a);
    o.emplace("bad\xfe", json_value::make_bool(true));
    std::string text;
    REQUIRE_NOTHROW(text = write(o));
    CHECK(text.find("a\xef\xbf\xbd" "b") != std::string::npos);
    CHECK(text.find("\xff") == std::string::npos);
    CHECK(text.find("\xfe") == std::string::npos);
    auto back = parse(text);
    REQUIRE(back);
    CHECK(member(*back, "s").string == "a\xef\xbf\xbd" "b");
    CHECK(member(*back, "bad\xef\xbf\xbd").boolean);
}

TEST_CASE("nlohmann_json reads back what it writes", "[nlohmann_json]") {
    json_object o;
    o.emplace("access_token", json_value::make_string("eyJhbGciOi.\u00e9\xf0\x9f\x98\x80\"\\/"));
    o.emplace("expires_at", json_value::make_number(1700003600));
    o.emplace("ratio", json_value::make_number(0.25));
    o.emplace("rotated", json_value::make_bool(false));
    o.emplace("id_token", json_value::make_null());
    json_value scopes;
    scopes.type = kind::array;
    scopes.strings = {"openid", "offline_access", ""};
    o.emplace("scope", scopes);

    auto back = parse(write(o));
    REQUIRE(back);
    REQUIRE(back->size() == o.size());
    for (const auto& [name, value] : o) {
        INFO(name);
        const json_value& got = member(*back, name);
        CHECK(got.type == value.type);
        CHECK(got.boolean == value.boolean);
        CHECK(got.number == value.number);
        CHECK(got.string == value.string);
        CHECK(got.strings == value.strings);
    }
    CHECK(write(*back) == write(o));
}

TEST_CASE("nlohmann_json never throws on damaged input", "[nlohmann_json]") {
    const std::string body =
        R"({"device_code":"d","user_code":"U-C","verification_uri":"https://x/","expires_in":600,"interval":5})";
    REQUIRE(parse(body));
    // Overwrite each byte with a selection of awkward values: parse may accept
    // or reject, but must neither throw nor crash, and an accepted result is an object.
    for (std::size_t i = 0; i < body.size(); ++i) {
        for (char c : {'\0', '"', '\\', '{', '[', ']', '}', ',', ':', '\xff', '\x80'}) {
            std::string damaged = body;
            damaged[i] = c;
            std::optional<json_object> result;
            REQUIRE_NOTHROW(result = parse(damaged));
        }
    }
}
