// Flags, then environment, then what login remembered, for the same server.
#include "catch.hpp"
#include "settings_helpers.hpp"

#include "settings.hpp"

#include <map>

using devflow::cli::remembered;
using devflow::cli::resolve_settings;

using devflow_test::env_of;
using devflow_test::parsed;

namespace {

const remembered memory{"https://a.example", "cli-a", std::vector<std::string>{"openid", "email"},
                        "A_SECRET", "/etc/ca.pem", "http://proxy.example:3128"};

}  // namespace

TEST_CASE("remembered settings fill in whatever the command line leaves out", "[cli][settings]") {
    const auto r = resolve_settings(parsed({"token"}), env_of({}), memory);
    CHECK(r.issuer == "https://a.example");
    CHECK(r.client_id == "cli-a");
    REQUIRE(r.scopes);
    CHECK(*r.scopes == std::vector<std::string>{"openid", "email"});
    CHECK(r.client_secret_env == "A_SECRET");
}

TEST_CASE("flags beat the environment which beats remembered settings", "[cli][settings]") {
    const auto env = env_of({{"DEVFLOW_ISSUER", "https://a.example"}, {"DEVFLOW_CLIENT_ID", "env-client"},
                             {"DEVFLOW_SCOPES", "x y"}});
    const auto r = resolve_settings(parsed({"token", "--client-id", "flag-client"}), env, memory);
    CHECK(r.issuer == "https://a.example");
    CHECK(r.client_id == "flag-client");
    REQUIRE(r.scopes);
    CHECK(*r.scopes == std::vector<std::string>{"x", "y"});
    CHECK(r.client_secret_env.empty());  // remembered for another client
}

TEST_CASE("another issuer starts from a clean slate", "[cli][settings]") {
    const auto r = resolve_settings(parsed({"login", "--issuer", "https://b.example"}), env_of({}), memory);
    CHECK(r.issuer == "https://b.example");
    CHECK(r.client_id.empty());
    CHECK_FALSE(r.scopes);
    CHECK(r.client_secret_env.empty());
}

TEST_CASE("nothing anywhere leaves everything unset", "[cli][settings]") {
    const auto r = resolve_settings(parsed({"token"}), env_of({}), std::nullopt);
    CHECK(r.issuer.empty());
    CHECK(r.client_id.empty());
    CHECK_FALSE(r.scopes);
}

TEST_CASE("remembered settings survive a round trip and hold no secret", "[cli][settings]") {
    const std::string text = devflow::cli::remembered_to_json(memory);
    CHECK(text.find("A_SECRET") != std::string::npos);  // the variable's name only
    const auto back = devflow::cli::remembered_from_json(text);
    REQUIRE(back);
    CHECK(*back == memory);
}

TEST_CASE("a foreign or broken settings file is ignored", "[cli][settings]") {
    using devflow::cli::remembered_from_json;
    CHECK_FALSE(remembered_from_json("not json"));
    CHECK_FALSE(remembered_from_json(R"({"issuer":"x","client_id":"y"})"));
    CHECK_FALSE(remembered_from_json(R"({"devflow_cli_settings":2,"issuer":"x","client_id":"y"})"));
    CHECK_FALSE(remembered_from_json(R"({"devflow_cli_settings":1,"issuer":"x","client_id":"y","scopes":"openid"})"));
    CHECK_FALSE(remembered_from_json(R"({"devflow_cli_settings":1,"issuer":"","client_id":"y"})"));
    CHECK(remembered_from_json(R"({"devflow_cli_settings":1,"issuer":"x","client_id":"y"})"));
    // No scopes remembered: the default (openid when offered), not "none".
    CHECK_FALSE(remembered_from_json(R"({"devflow_cli_settings":1,"issuer":"x","client_id":"y"})")->scopes);
    CHECK(remembered_from_json(R"({"devflow_cli_settings":1,"issuer":"x","client_id":"y","scopes":[]})")
              ->scopes == std::vector<std::string>{});
}

TEST_CASE("the cache is a directory or a single file by its spelling", "[cli][settings]") {
    auto no_dirs = [](const std::filesystem::path&) { return false; };
    auto default_dir = [] { return std::filesystem::path("/home/a/.local/state/devflow"); };
    using devflow::cli::resolve_cache;
    const auto d = resolve_cache(parsed({"token"}), env_of({}), default_dir, no_dirs);
    CHECK(d.path == "/home/a/.local/state/devflow");
    CHECK_FALSE(d.single_file);
    const auto slash = resolve_cache(parsed({"token", "--cache", "/tmp/c/"}), env_of({}), default_dir, no_dirs);
    CHECK_FALSE(slash.single_file);
    const auto file = resolve_cache(parsed({"token", "--cache", "/tmp/t.json"}), env_of({}), default_dir, no_dirs);
    CHECK(file.single_file);
    const auto existing = resolve_cache(parsed({"token", "--cache", "/tmp/c"}), env_of({}), default_dir,
                                        [](const std::filesystem::path&) { return true; });
    CHECK_FALSE(existing.single_file);
    const auto env = resolve_cache(parsed({"token"}), env_of({{"DEVFLOW_CACHE", "/x/t.json"}}), default_dir, no_dirs);
    CHECK(env.path == "/x/t.json");
    CHECK(env.single_file);
    CHECK(devflow::cli::settings_path(file) == "/tmp/t.json.cli-settings.json");
    CHECK(devflow::cli::settings_path(d) == "/home/a/.local/state/devflow/cli-settings.json");
}

TEST_CASE("login asks for openid only when the server offers it", "[cli][settings]") {
    using devflow::cli::default_scopes;
    CHECK(default_scopes({"openid", "profile"}, false) == std::vector<std::string>{"openid"});
    CHECK(default_scopes({}, true) == std::vector<std::string>{"openid"});
    CHECK(default_scopes({}, false).empty());
    CHECK(default_scopes({"read", "write"}, true).empty());
}
