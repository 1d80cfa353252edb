// detail/form.hpp: form bodies (application/x-www-form-urlencoded), base64
// and the client_secret_basic Authorization header.
#include <devflow/detail/form.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <string>
#include <utility>
#include <vector>

using devflow::secret;
using devflow::detail::base64_encode;
using devflow::detail::basic_authorization;
using devflow::detail::form_decode;
using devflow::detail::form_encode;
using devflow::detail::form_escape;
using devflow::detail::form_field;
using devflow::detail::form_unescape;

namespace {
using pairs = std::vector<std::pair<std::string, std::string>>;
}  // namespace

TEST_CASE("form_escape keeps letters digits and the unreserved marks and turns space into plus",
          "[form]") {
    CHECK(form_escape("") == "");
    CHECK(form_escape("AZaz09") == "AZaz09");
    CHECK(form_escape("a-b.c_d*e") == "a-b.c_d*e");
    CHECK(form_escape("openid profile email") == "openid+profile+email");
    CHECK(form_escape("  ") == "++");
}

TEST_CASE("form_escape percent-encodes reserved characters in upper-case hex", "[form]") {
    CHECK(form_escape("+") == "%2B");
    CHECK(form_escape("&") == "%26");
    CHECK(form_escape("=") == "%3D");
    CHECK(form_escape("%") == "%25");
    CHECK(form_escape("/?#") == "%2F%3F%23");
    CHECK(form_escape(":@") == "%3A%40");
    CHECK(form_escape("!$'(),;") == "%21%24%27%28%29%2C%3B");
    CHECK(form_escape("[]") == "%5B%5D");
    CHECK(form_escape("\"<>\\^`{|}") == "%22%3C%3E%5C%5E%60%7B%7C%7D");
    CHECK(form_escape("\n\r\t") == "%0A%0D%09");
    CHECK(form_escape(std::string_view("\0", 1)) == "%00");
}

TEST_CASE("form_escape encodes each UTF-8 byte of non-ASCII text", "[form]") {
    CHECK(form_escape("\xC3\xA9") == "%C3%A9");                           // é
    CHECK(form_escape("\xE6\x97\xA5\xE6\x9C\xAC") == "%E6%97%A5%E6%9C%AC");  // 日本
    CHECK(form_escape("\xF0\x9F\x94\x91") == "%F0%9F%94%91");             // 🔑
    CHECK(form_escape("\xFF") == "%FF");
}

TEST_CASE("form_escape appends to an existing buffer", "[form]") {
    std::string out = "x=";
    form_escape("a b", out);
    CHECK(out == "x=a+b");
}

TEST_CASE("form_encode joins escaped fields with ampersands in the given order", "[form]") {
    const secret body = form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                                     {"device_code", "CANARY-dev&code=1"},
                                     {"client_id", "my app"}});
    CHECK(body.reveal() ==
          "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
          "&device_code=CANARY-dev%26code%3D1&client_id=my+app");
    CHECK(form_encode({}).empty());
    CHECK(form_encode({{"a", ""}}).reveal() == "a=");
}

TEST_CASE("form_unescape turns plus into space and decodes percent escapes of either case",
          "[form]") {
    CHECK(form_unescape("a+b") == "a b");
    CHECK(form_unescape("%2B") == "+");
    CHECK(form_unescape("%2b%3a") == "+:");
    CHECK(form_unescape("%C3%A9") == "\xC3\xA9");
    CHECK(form_unescape("%00") == std::string("\0", 1));
    CHECK(form_unescape("%41") == "A");
    CHECK(form_unescape("x%41") == "xA");
}

TEST_CASE("form_unescape keeps malformed escapes literally", "[form]") {
    CHECK(form_unescape("%") == "%");
    CHECK(form_unescape("%4") == "%4");
    CHECK(form_unescape("a%4") == "a%4");
    CHECK(form_unescape("%zz") == "%zz");
    CHECK(form_unescape("%G1") == "%G1");
    CHECK(form_unescape("100%") == "100%");
}

TEST_CASE("form_decode splits a body into decoded pairs in order", "[form]") {
    CHECK(form_decode("") == pairs{});
    CHECK(form_decode("a=1&b=x+y&c=%26%3D") ==
          pairs{{"a", "1"}, {"b", "x y"}, {"c", "&="}});
    // Empty parts are skipped; a name without '=' has an empty value; '=' in a value stays.
    CHECK(form_decode("&&flag&e=&f=a=b&") ==
          pairs{{"flag", ""}, {"e", ""}, {"f", "a=b"}});
    CHECK(form_decode("scope=openid+profile&scope=email") ==
          pairs{{"scope", "openid profile"}, {"scope", "email"}});
}

TEST_CASE("form_decode inverts form_encode for every byte value", "[form]") {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    const secret body = form_encode({{"k y", all}, {"second", "CANARY+ &=%"}});
    // Every byte of the body is printable ASCII: nothing raw leaks into the form.
    bool printable = true;
    for (char c : body.reveal())
        printable = printable && static_cast<unsigned char>(c) > 0x20 &&
                    static_cast<unsigned char>(c) < 0x7F;
    CHECK(printable);
    CHECK(form_decode(body.reveal()) == pairs{{"k y", all}, {"second", "CANARY+ &=%"}});
}

TEST_CASE("base64_encode matches the test vectors of RFC 4648 section 10", "[form]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64_encode uses the standard alphabet with plus and slash for high bytes", "[form]") {
    CHECK(base64_encode("\xFB\xFF") == "+/8=");
    CHECK(base64_encode("\xFF\xFF\xFF") == "////");
    CHECK(base64_encode(std::string_view("\0\0\0", 3)) == "AAAA");
}

TEST_CASE("basic_authorization reproduces the example of RFC 6749 section 2.3.1", "[form]") {
    // The RFC's own published example credentials (not a secret of any real client).
    const secret header = basic_authorization("s6BhdRkqt3", secret{"7Fjfp0ZBr1KtDRbnfVdmIw"});
    CHECK(header.reveal() == "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3");
}

TEST_CASE("basic_authorization form-encodes a client id and secret holding colons and spaces",
          "[form]") {
    // RFC 6749 §2.3.1: each part is application/x-www-form-urlencoded before
    // joining with ':', so a ':' inside the id or the secret cannot shift the split.
    // base64("my%3Aclient+id:CANARY+s3cr%3Aet%2B%2F%25")
    const secret header = basic_authorization("my:client id", secret{"CANARY s3cr:et+/%"});
    CHECK(header.reveal() ==
          "Basic bXklM0FjbGllbnQraWQ6Q0FOQVJZK3MzY3IlM0FldCUyQiUyRiUyNQ==");
    // The header never carries the secret in clear.
    CHECK(devflow_test::leak_free(header.reveal()));
}

TEST_CASE("basic_authorization with an empty secret still sends the separating colon", "[form]") {
    // base64("app:")
    CHECK(basic_authorization("app", secret{}).reveal() == "Basic YXBwOg==");
}
