// What a keyring item shows of its record (adapters/detail/keyring_item.hpp of devflow::secret_service): the
// lookup digest, the issuer, client and scopes of a flow's key, and a label;
// nothing that is not displayable UTF-8.
#include "catch.hpp"

#include <devflow/adapters/detail/keyring_item.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/detail/sha256.hpp>

#include <string>

using devflow::detail::is_displayable_utf8;
using devflow::detail::keyring_item_for;

TEST_CASE("keyring item of a flow key names client and issuer", "[keyring_item]") {
    const devflow::record_owner owner{"https://id.example.test/realms/dev", "my-cli", "offline_access openid"};
    const std::string key = devflow::detail::store_key(owner);
    const auto item = keyring_item_for(key);
    CHECK(item.described);
    CHECK(item.issuer == owner.issuer);
    CHECK(item.client_id == owner.client_id);
    CHECK(item.scopes == owner.scopes);
    CHECK(item.label == "devflow: my-cli at https://id.example.test/realms/dev");
    CHECK(item.key_digest == devflow::detail::sha256_hex(key).substr(0, 32));
    CHECK(item.key_digest.size() == 32);
}

TEST_CASE("keyring item of a flow key without scopes", "[keyring_item]") {
    const auto item = keyring_item_for("https://id.example.test\nclient\n");
    CHECK(item.described);
    CHECK(item.scopes.empty());
    CHECK(item.label == "devflow: client at https://id.example.test");
}

TEST_CASE("keyring item of another key shows its digest only", "[keyring_item]") {
    for (const std::string& key : {std::string("plain"), std::string("a\nb"), std::string("a\nb\nc\nd"),
                                  std::string("\nclient\nscopes"), std::string("issuer\n\nscopes"),
                                  std::string("iss\x1b[31m\nclient\nscopes"),
                                  std::string("issuer\ncli\xff\nscopes"), std::string("i\ncl\0ient\ns", 11)}) {
        const auto item = keyring_item_for(key);
        INFO(item.label);
        CHECK_FALSE(item.described);
        CHECK(item.issuer.empty());
        CHECK(item.client_id.empty());
        CHECK(item.label == "devflow: token record " + item.key_digest);
    }
}

TEST_CASE("displayable UTF-8", "[keyring_item]") {
    CHECK(is_displayable_utf8(""));
    CHECK(is_displayable_utf8("https://id.example.test"));
    CHECK(is_displayable_utf8("cl\xc3\xa9ment \xe2\x82\xac \xf0\x9f\x94\x91"));  // é € 🔑
    CHECK_FALSE(is_displayable_utf8("tab\there"));
    CHECK_FALSE(is_displayable_utf8("del\x7f"));
    CHECK_FALSE(is_displayable_utf8("c1 \xc2\x85"));           // NEL
    CHECK_FALSE(is_displayable_utf8("\xc0\xaf"));              // overlong '/'
    CHECK_FALSE(is_displayable_utf8("\xed\xa0\x80"));          // a surrogate
    CHECK_FALSE(is_displayable_utf8("\xf4\x90\x80\x80"));      // above U+10FFFF
    CHECK_FALSE(is_displayable_utf8("cut \xe2\x82"));          // cut short
    CHECK_FALSE(is_displayable_utf8("\x80"));                  // a lone continuation byte
    CHECK_FALSE(is_displayable_utf8("\xf8\x88\x80\x80\x80"));  // five bytes
}

TEST_CASE("keyring item of a key in a partition is another item and shows its partition", "[keyring_item]") {
    const std::string key = "https://id.example.test\nclient\nopenid";
    const auto plain = keyring_item_for(key);
    const auto work = keyring_item_for(key, "/home/u/.local/state/devflow/work");
    const auto home = keyring_item_for(key, "/home/u/.local/state/devflow/home");
    CHECK(plain.partition.empty());
    CHECK(work.partition == "/home/u/.local/state/devflow/work");
    CHECK(work.key_digest != plain.key_digest);
    CHECK(work.key_digest != home.key_digest);
    CHECK(work.key_digest == devflow::detail::sha256_hex(std::string("/home/u/.local/state/devflow/work") +
                                                         std::string(1, '\0') + key)
                                 .substr(0, 32));
    // The issuer, client and label do not change with the partition.
    CHECK(work.label == plain.label);
    CHECK(work.described);
    // A partition that is not displayable still separates, and is not shown.
    const auto odd = keyring_item_for(key, std::string("/tmp/\x01odd", 9));
    CHECK(odd.partition.empty());
    CHECK(odd.key_digest != plain.key_digest);
}
