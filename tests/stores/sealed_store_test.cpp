// sealed_store (adapters/openssl): AES-256-GCM records bound to their store
// key; a record that does not open is errc::unseal_failed, never a re-prompt.
#include <devflow/adapters/sealed_store.hpp>
#include <devflow/file_store.hpp>
#include <devflow/memory_store.hpp>

#include "canary.hpp"
#include "catch.hpp"
#include "flow_fixture.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using devflow::errc;
using devflow::memory_store;
using devflow::secret;
using devflow::sealed_store;
using devflow_test::expect_error;
namespace sealed = devflow::detail::sealed;

static_assert(devflow::token_store<sealed_store<memory_store>>);
static_assert(devflow::lockable_store<sealed_store<memory_store>>);
static_assert(!devflow::quarantining_store<sealed_store<memory_store>>);
static_assert(devflow::lockable_store<sealed_store<devflow::file_store>>);
static_assert(devflow::quarantining_store<sealed_store<devflow::file_store>>);

namespace {
constexpr const char* record_text = R"({"access_token":"CANARY-sealed-access-5c1e"})";
secret key_one() { return secret(std::string(32, '\x11')); }
secret key_two() { return secret(std::string(32, '\x22')); }
}  // namespace

TEST_CASE("sealed_store round trips a record and the inner store sees no plaintext", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store> store(inner, key_one());
    CHECK_FALSE(store.load("k").has_value());
    store.save("k", secret(record_text));
    const auto raw = inner.load("k");
    REQUIRE(raw);
    CHECK(raw->reveal().rfind("devflow-sealed-v1.", 0) == 0);
    CHECK(raw->reveal().find("CANARY") == std::string::npos);
    const auto back = store.load("k");
    REQUIRE(back);
    CHECK(back->reveal() == record_text);
    store.erase("k");
    CHECK_FALSE(inner.load("k").has_value());
    CHECK_FALSE(store.load("k").has_value());
}

TEST_CASE("sealed_store uses a fresh nonce for every save", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store> store(inner, key_one());
    store.save("k", secret(record_text));
    const std::string first = inner.load("k")->reveal();
    store.save("k", secret(record_text));
    const std::string second = inner.load("k")->reveal();
    CHECK(first != second);
    CHECK(first.size() == second.size());
}

TEST_CASE("sealed_store with a wrong key is unseal_failed", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store>(inner, key_one()).save("k", secret(record_text));
    sealed_store<memory_store> other(inner, key_two());
    const auto e = expect_error([&] { (void)other.load("k"); }, errc::unseal_failed);
    CHECK(std::string(e.what()).find("does not open") != std::string::npos);
    CHECK(inner.load("k").has_value());  // nothing is removed
}

TEST_CASE("sealed_store detects every changed byte", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store> store(inner, key_one());
    store.save("k", secret(record_text));
    const auto framed = sealed::unframe(inner.load("k")->reveal());
    REQUIRE(framed.status == sealed::frame_status::ok);
    for (std::size_t i = 0; i < framed.bytes.size(); ++i) {
        std::string changed = framed.bytes;
        changed[i] = static_cast<char>(changed[i] ^ 0x01);
        inner.save("k", secret(sealed::frame(changed)));
        INFO("byte " << i);
        expect_error([&] { (void)store.load("k"); }, errc::unseal_failed);
    }
}

TEST_CASE("sealed_store refuses a truncated record", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store> store(inner, key_one());
    store.save("k", secret(record_text));
    const std::string whole = inner.load("k")->reveal();
    const auto framed = sealed::unframe(whole);
    inner.save("k", secret(sealed::frame(framed.bytes.substr(0, framed.bytes.size() - 1))));
    expect_error([&] { (void)store.load("k"); }, errc::unseal_failed);
    inner.save("k", secret(whole.substr(0, whole.size() - 4)));
    expect_error([&] { (void)store.load("k"); }, errc::unseal_failed);
    inner.save("k", secret(std::string("devflow-sealed-v1.")));
    expect_error([&] { (void)store.load("k"); }, errc::unseal_failed);
}

TEST_CASE("sealed_store refuses a record moved to another key", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store> store(inner, key_one());
    store.save("alice", secret(record_text));
    inner.save("bob", *inner.load("alice"));
    const auto e = expect_error([&] { (void)store.load("bob"); }, errc::unseal_failed);
    CHECK(std::string(e.what()).find("another store key") != std::string::npos);
    CHECK(store.load("alice").has_value());
}

TEST_CASE("sealed_store refuses unsealed and newer records", "[sealed]") {
    memory_store inner;
    sealed_store<memory_store> store(inner, key_one());
    inner.save("k", secret(record_text));
    auto e = expect_error([&] { (void)store.load("k"); }, errc::unseal_failed);
    CHECK(std::string(e.what()).find("not sealed") != std::string::npos);
    inner.save("k", secret(std::string("devflow-sealed-v2.AAAA")));
    e = expect_error([&] { (void)store.load("k"); }, errc::unseal_failed);
    CHECK(std::string(e.what()).find("newer format") != std::string::npos);
}

TEST_CASE("sealed_store takes only a 32 byte key", "[sealed]") {
    expect_error([] { sealed_store<memory_store>(memory_store{}, secret(std::string(31, 'k'))); },
                 errc::invalid_config);
    expect_error([] { sealed_store<memory_store>(memory_store{}, secret{}); }, errc::invalid_config);
}

TEST_CASE("sealed_store key files are checked like records", "[sealed]") {
    devflow_test::temp_dir dir("devflow-sealed");
    const auto file = dir.path() / "key";
    expect_error([&] { (void)sealed_store<memory_store>::read_key_file(file); }, errc::invalid_config);
    {
        std::ofstream out(file);
        out << std::string(64, 'a') << '\n';
    }
    ::chmod(file.c_str(), 0644);
    auto e = expect_error([&] { (void)sealed_store<memory_store>::read_key_file(file); },
                          errc::invalid_config);
    CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
    ::chmod(file.c_str(), 0600);
    const secret hex_key = sealed_store<memory_store>::read_key_file(file);
    CHECK(hex_key == secret(std::string(32, '\xaa')));

    const auto link = dir.path() / "link";
    std::filesystem::create_symlink(file, link);
    expect_error([&] { (void)sealed_store<memory_store>::read_key_file(link); }, errc::invalid_config);

    {
        std::ofstream out(file, std::ios::trunc);
        out << "not a key";
    }
    expect_error([&] { (void)sealed_store<memory_store>::read_key_file(file); }, errc::invalid_config);
    {
        std::ofstream out(file, std::ios::trunc | std::ios::binary);
        out << std::string(32, '\x11');
    }
    memory_store inner;
    sealed_store<memory_store>(inner, key_one()).save("k", secret(record_text));
    sealed_store<memory_store> from_file(inner, sealed_store<memory_store>::read_key_file(file));
    REQUIRE(from_file.load("k"));
    CHECK(from_file.load("k")->reveal() == record_text);
}

TEST_CASE("parse_key_file reads raw and hex keys only", "[sealed]") {
    CHECK(sealed::parse_key_file(std::string(32, 'x')).has_value());
    CHECK(sealed::parse_key_file(std::string(64, 'F') + "\r\n").has_value());
    CHECK_FALSE(sealed::parse_key_file(std::string(63, 'f')).has_value());
    CHECK_FALSE(sealed::parse_key_file(std::string(62, 'f') + "zz").has_value());
    CHECK_FALSE(sealed::parse_key_file(std::string(33, 'x')).has_value());
}

TEST_CASE("sealed_store composes with file_store and forwards its lock", "[sealed]") {
    devflow_test::temp_dir dir("devflow-sealed");
    devflow::file_store files(dir.path() / "state");
    sealed_store<devflow::file_store> store(files, key_one());
    store.save("k", secret(record_text));
    const auto raw = files.load("k");
    REQUIRE(raw);
    CHECK(raw->reveal().find("CANARY") == std::string::npos);
    REQUIRE(store.load("k"));
    CHECK(store.load("k")->reveal() == record_text);
    {
        auto held = store.lock("k");
        CHECK(held.owns_lock());
        CHECK_FALSE(files.try_lock("k").has_value());
    }
    CHECK(files.try_lock("k").has_value());
    sealed_store<devflow::file_store> wrong(files, key_two());
    expect_error([&] { (void)wrong.load("k"); }, errc::unseal_failed);
    CHECK(std::filesystem::exists(files.path_for("k")));  // not set aside
    store.erase("k");
    CHECK_FALSE(store.load("k").has_value());
}

TEST_CASE("a flow whose record does not open fails typed without a new sign-in", "[sealed]") {
    devflow_test::fixture f;
    memory_store shared;
    auto right = f.make_flow_with(sealed_store<memory_store>(shared, key_one()), f.server.config());
    right->login();
    REQUIRE(f.prompts.size() == 1);
    auto again = f.make_flow_with(sealed_store<memory_store>(shared, key_one()), f.server.config());
    CHECK_FALSE(again->authorization_header().empty());  // the stored session, opened
    auto wrong = f.make_flow_with(sealed_store<memory_store>(shared, key_two()), f.server.config());
    expect_error([&] { (void)wrong->authorization_header(); }, errc::unseal_failed);
    CHECK(f.prompts.size() == 1);
    CHECK(f.server.device_authorizations() == 1);
    CHECK(shared.load(right->store_key()).has_value());
}
