// JWT payloads are decoded for display only: base64url with and without
// padding, three parts, a JSON object inside.
#include "catch.hpp"

#include "jwt.hpp"

using devflow::cli::base64url_decode;
using devflow::cli::jwt_payload;

TEST_CASE("base64url decodes with and without padding (RFC 4648 §5)", "[cli][jwt]") {
    CHECK(base64url_decode("aGk") == "hi");
    CHECK(base64url_decode("aGk=") == "hi");
    CHECK(base64url_decode("aGVsbG8") == "hello");
    CHECK(base64url_decode("-_8") == std::string("\xfb\xff"));
    CHECK(base64url_decode("") == "");
}

TEST_CASE("base64url refuses foreign characters and impossible lengths", "[cli][jwt]") {
    CHECK_FALSE(base64url_decode("a+b/"));
    CHECK_FALSE(base64url_decode("abcde"));
    CHECK_FALSE(base64url_decode("aGl"));  // leftover bits not zero
}

TEST_CASE("the payload of a three part token is its middle part (RFC 7515 §7.1)", "[cli][jwt]") {
    // {"alg":"none"} . {"sub":"alice","exp":1767225600} . signature
    const std::string token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTc2NzIyNTYwMH0.c2ln";
    CHECK(jwt_payload(token) == R"({"sub":"alice","exp":1767225600})");
}

TEST_CASE("opaque tokens and encrypted tokens have no readable payload", "[cli][jwt]") {
    CHECK_FALSE(jwt_payload("an-opaque-token"));
    CHECK_FALSE(jwt_payload("a.b"));
    CHECK_FALSE(jwt_payload("a.b.c.d.e"));
    CHECK_FALSE(jwt_payload("x.aGVsbG8.y"));  // "hello" is not a JSON object
}
