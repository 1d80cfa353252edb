// Which token store a run uses (store_choice.hpp, settings.hpp, profiles.hpp):
// --store, DEVFLOW_STORE, the remembered store, then auto; a keyring asked
// for by name fails closed; auto falls back to files.
#include "catch.hpp"
#include "settings_helpers.hpp"

#include "profiles.hpp"
#include "settings.hpp"
#include "store_choice.hpp"

#include <map>
#include <string>

using devflow::cli::decide_store;
using devflow::cli::exit_code;
using devflow::cli::parse_store;
using devflow::cli::store_kind;
using devflow::cli::store_request;

using devflow_test::env_of;
using devflow_test::parsed;

namespace {

/// A keyring probe that must not be called.
std::string unasked() {
    FAIL("the keyring was probed");
    return {};
}

}  // namespace

TEST_CASE("store values parse", "[store]") {
    CHECK(parse_store("auto", "--store").request == store_request::automatic);
    CHECK(parse_store("file", "--store").request == store_request::file);
    CHECK(parse_store("keyring", "--store").request == store_request::keyring);
    const auto bad = parse_store("vault", "--store");
    CHECK_FALSE(bad.request);
    CHECK(bad.error == "--store takes file, keyring or auto, not \"vault\"");
    const auto etcd = parse_store("etcd://10.0.0.1:2379/devflow", "DEVFLOW_STORE");
    CHECK_FALSE(etcd.request);
    CHECK(etcd.error.find("DEVFLOW_STORE: an etcd store is not supported in this build") == 0);
    CHECK(parse_store("bad\x1b[2J", "--store").error.find('\x1b') == std::string::npos);
}

TEST_CASE("store file never probes the keyring", "[store]") {
    const auto d = decide_store(store_request::file, true, false, unasked);
    CHECK(d.kind == store_kind::file);
    CHECK_FALSE(d.failed);
}

TEST_CASE("store keyring fails closed", "[store]") {
    const auto down = decide_store(store_request::keyring, true, false,
                                   [] { return std::string("keyring store: no D-Bus session bus"); });
    REQUIRE(down.failed);
    CHECK(down.failed->code == exit_code::storage);
    CHECK(down.failed->line == "devflow: keyring store: no D-Bus session bus");
    const auto absent = decide_store(store_request::keyring, false, false, unasked);
    REQUIRE(absent.failed);
    CHECK(absent.failed->line.find("built without the keyring store") != std::string::npos);
    // A named cache does not stop an explicit keyring.
    const auto up = decide_store(store_request::keyring, true, true, [] { return std::string(); });
    CHECK(up.kind == store_kind::keyring);
    CHECK_FALSE(up.failed);
}

TEST_CASE("store auto prefers a usable keyring", "[store]") {
    const auto up = decide_store(store_request::automatic, true, false, [] { return std::string(); });
    CHECK(up.kind == store_kind::keyring);
    CHECK(up.note.empty());
    const auto down = decide_store(store_request::automatic, true, false,
                                   [] { return std::string("keyring store: the default keyring is locked"); });
    CHECK(down.kind == store_kind::file);
    CHECK_FALSE(down.failed);
    CHECK(down.note == "keyring store: the default keyring is locked");
    // A named cache means files; the keyring is not even asked.
    CHECK(decide_store(store_request::automatic, true, true, unasked).kind == store_kind::file);
    CHECK(decide_store(store_request::automatic, false, false, unasked).kind == store_kind::file);
}

TEST_CASE("store setting comes from flag then environment then memory", "[store]") {
    devflow::cli::remembered memory{"https://a.example", "cli-a", std::nullopt, "", "", "", "keyring"};
    auto r = devflow::cli::resolve_settings(parsed({"token"}), env_of({}), memory);
    CHECK(r.store == "keyring");
    CHECK(r.store_source == "the remembered settings");
    r = devflow::cli::resolve_settings(parsed({"token"}), env_of({{"DEVFLOW_STORE", "file"}}), memory);
    CHECK(r.store == "file");
    CHECK(r.store_source == "DEVFLOW_STORE");
    r = devflow::cli::resolve_settings(parsed({"token", "--store", "auto"}),
                                       env_of({{"DEVFLOW_STORE", "file"}}), memory);
    CHECK(r.store == "auto");
    CHECK(r.store_source == "--store");
    // Another client starts from auto.
    r = devflow::cli::resolve_settings(parsed({"token", "--client-id", "cli-b"}), env_of({}), memory);
    CHECK(r.store == "auto");
    r = devflow::cli::resolve_settings(parsed({"token"}), env_of({}), std::nullopt);
    CHECK(r.store == "auto");
    // Settings from before the choice existed: the session is in files.
    memory.store.clear();
    r = devflow::cli::resolve_settings(parsed({"token"}), env_of({}), memory);
    CHECK(r.store == "file");
}

TEST_CASE("store is remembered in settings and profiles", "[store]") {
    devflow::cli::remembered memory{"https://a.example", "cli-a", std::nullopt, "", "", "", "keyring"};
    const auto text = devflow::cli::remembered_to_json(memory);
    CHECK(text.find("\"store\": \"keyring\"") != std::string::npos);
    CHECK(devflow::cli::remembered_from_json(text) == memory);

    const auto config = devflow::cli::config_from_json(R"({"devflow_config":1,"profiles":{
        "work":{"issuer":"https://a.example","client_id":"cli-a","store":"file"}}})");
    REQUIRE(config.config);
    CHECK(config.config->profiles.at("work").store == "file");
    CHECK(devflow::cli::remembered_of(config.config->profiles.at("work")).store == "file");
    CHECK(devflow::cli::config_to_json(*config.config).find("\"store\": \"file\"") != std::string::npos);

    const auto bad = devflow::cli::config_from_json(R"({"devflow_config":1,"profiles":{
        "work":{"issuer":"https://a.example","client_id":"cli-a","store":"etcd://x"}}})");
    CHECK_FALSE(bad.config);
    CHECK(bad.problem.find("not supported in this build") != std::string::npos);
}
