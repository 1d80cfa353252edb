// detail/base64.hpp: standard base64 (RFC 4648 §4), encoded and strictly decoded.
#include <devflow/detail/base64.hpp>

#include "catch.hpp"

#include <string>

using devflow::detail::base64_decode;
using devflow::detail::base64_encode;

TEST_CASE("base64 matches the RFC 4648 test vectors", "[base64]") {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        INFO(plain);
        CHECK(base64_encode(plain) == encoded);
        const auto decoded = base64_decode(encoded);
        REQUIRE(decoded);
        CHECK(*decoded == plain);
    }
}

TEST_CASE("base64 round trips every byte value", "[base64]") {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const std::string part = all.substr(0, n);
        const auto back = base64_decode(base64_encode(part));
        REQUIRE(back);
        CHECK(*back == part);
    }
    CHECK(base64_encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64_decode refuses what is not strict padded base64", "[base64]") {
    for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zm9v\n", "Zm 9", "Zm9-",
                            "Zm_v", "Zh==", "Zm9=", "=Zm9"}) {
        INFO(bad);
        CHECK_FALSE(base64_decode(bad).has_value());
    }
}
