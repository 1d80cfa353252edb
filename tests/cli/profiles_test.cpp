// Named profiles: the config file read strictly, which profile a command
// uses, where its cache is, and what `devflow profiles` shows.
#include "catch.hpp"
#include "settings_helpers.hpp"

#include "profiles.hpp"

#include <map>

using namespace std::chrono_literals;
using devflow::cli::config_from_json;

using devflow_test::env_of;
using devflow_test::parsed;

namespace {

std::string problem_of(std::string_view text) {
    const auto r = config_from_json(text);
    CHECK_FALSE(r.config);
    return r.problem;
}

const devflow::cli::wall_time new_year{std::chrono::seconds{1767225600}};

}  // namespace

TEST_CASE("profile names are plain words and never default", "[cli][profiles]") {
    using devflow::cli::valid_profile_name;
    CHECK(valid_profile_name("lab"));
    CHECK(valid_profile_name("lab-2.prod_eu"));
    CHECK(valid_profile_name("9"));
    CHECK_FALSE(valid_profile_name(""));
    CHECK_FALSE(valid_profile_name("default"));
    CHECK_FALSE(valid_profile_name("-x"));
    CHECK_FALSE(valid_profile_name(".hidden"));
    CHECK_FALSE(valid_profile_name("a/b"));
    CHECK_FALSE(valid_profile_name("../x"));
    CHECK_FALSE(valid_profile_name("a b"));
    CHECK_FALSE(valid_profile_name(std::string(65, 'a')));
}

TEST_CASE("a config file survives a round trip", "[cli][profiles]") {
    devflow::cli::config_file c;
    c.default_profile = "lab";
    devflow::cli::profile p;
    p.issuer = "https://sso.example.org/realms/lab";
    p.client_id = "my-cli";
    p.scopes = std::vector<std::string>{"openid", "email"};
    p.client_secret_env = "LAB_SECRET";
    p.cache = "/home/a/tokens/";
    c.profiles["lab"] = p;
    c.profiles["bare"] = {};
    const std::string text = devflow::cli::config_to_json(c);
    const auto back = config_from_json(text);
    REQUIRE(back.config);
    CHECK(*back.config == c);
    CHECK(text.rfind("{\n  \"devflow_config\": 1,", 0) == 0);
}

TEST_CASE("the config file is read strictly", "[cli][profiles]") {
    CHECK(problem_of("[]") == "it is not a JSON object");
    CHECK(problem_of("{") == "it is not a JSON object");
    CHECK(problem_of("{}") == "it has no \"devflow_config\" version number");
    CHECK(problem_of(R"({"devflow_config":1,"profile":{}})") == "it has an unknown key \"profile\"");
    CHECK(problem_of(R"({"devflow_config":1,"profiles":{"lab":{"isuer":"x"}}})") ==
          "it has an unknown key \"isuer\" in profile \"lab\"");
    CHECK(problem_of(R"({"devflow_config":1,"profiles":{"lab":{"issuer":1}}})") ==
          "\"issuer\" of profile \"lab\" must be a string");
    CHECK(problem_of(R"({"devflow_config":1,"profiles":{"lab":{"scopes":"openid"}}})") ==
          "\"scopes\" of profile \"lab\" must be an array of strings");
    CHECK(problem_of(R"({"devflow_config":1,"profiles":{"lab":{"cache":"tokens/"}}})") ==
          "\"cache\" of profile \"lab\" must be an absolute path");
    CHECK(problem_of(R"({"devflow_config":1,"profiles":{"default":{}}})").find("reserved") !=
          std::string::npos);
    CHECK(problem_of(R"({"devflow_config":1,"profiles":{"a/b":{}}})").find("not a profile name") !=
          std::string::npos);
    CHECK(problem_of(R"({"devflow_config":1,"default_profile":"lab"})") ==
          "\"default_profile\" names \"lab\", which is not one of its profiles");
    CHECK(problem_of(R"({"devflow_config":1,"profiles":[]})") == "\"profiles\" must be an object");
}

TEST_CASE("a config file of another version is refused, a newer one with advice to upgrade",
          "[cli][profiles]") {
    const auto newer = config_from_json(R"({"devflow_config":2,"profiles":{}})");
    CHECK_FALSE(newer.config);
    CHECK(newer.newer_version);
    CHECK(newer.problem == "it is of version 2, and this devflow reads version 1");
    const auto f = devflow::cli::config_file_failure("/h/.config/devflow/config.json", newer);
    CHECK(f.code == devflow::cli::exit_code::usage);
    CHECK(f.line == "devflow: the config file /h/.config/devflow/config.json cannot be used: it is "
                    "of version 2, and this devflow reads version 1; a newer devflow wrote it: "
                    "upgrade devflow (the file is left as it is)");
    const auto older = config_from_json(R"({"devflow_config":0})");
    CHECK_FALSE(older.newer_version);
    CHECK(devflow::cli::config_file_failure("f", older).line.find("fix it or remove it") !=
          std::string::npos);
}

TEST_CASE("the config file lives under XDG_CONFIG_HOME or ~/.config", "[cli][profiles]") {
    auto home = [] { return std::filesystem::path("/home/a"); };
    using devflow::cli::config_path;
    CHECK(config_path(env_of({}), home) == "/home/a/.config/devflow/config.json");
    CHECK(config_path(env_of({{"XDG_CONFIG_HOME", "/x/cfg"}}), home) == "/x/cfg/devflow/config.json");
    CHECK(config_path(env_of({{"XDG_CONFIG_HOME", "relative"}}), home) ==
          "/home/a/.config/devflow/config.json");
}

TEST_CASE("the profile option beats DEVFLOW_PROFILE which beats the default profile", "[cli][profiles]") {
    using devflow::cli::selected_profile;
    devflow::cli::config_file c;
    c.default_profile = "lab";
    c.profiles["lab"] = {};
    CHECK(selected_profile(parsed({"token"}), env_of({}), std::nullopt).empty());
    CHECK(selected_profile(parsed({"token"}), env_of({}), c) == "lab");
    CHECK(selected_profile(parsed({"token"}), env_of({{"DEVFLOW_PROFILE", "ci"}}), c) == "ci");
    CHECK(selected_profile(parsed({"token", "--profile", "x"}), env_of({{"DEVFLOW_PROFILE", "ci"}}), c) ==
          "x");
    // "default" is the unnamed settings, whatever the config's default is.
    CHECK(selected_profile(parsed({"token", "--profile", "default"}), env_of({}), c).empty());
}

TEST_CASE("a profile's cache is its own directory unless it names one", "[cli][profiles]") {
    auto no_dirs = [](const std::filesystem::path&) { return false; };
    using devflow::cli::profile_cache;
    const auto own = profile_cache("lab", {}, "/home/a/.local/state/devflow", no_dirs);
    CHECK(own.path == "/home/a/.local/state/devflow/profiles/lab");
    CHECK_FALSE(own.single_file);
    devflow::cli::profile p;
    p.cache = "/srv/t.json";
    CHECK(profile_cache("lab", p, "/s", no_dirs).single_file);
    p.cache = "/srv/tokens/";
    CHECK_FALSE(profile_cache("lab", p, "/s", no_dirs).single_file);
}

TEST_CASE("a profile stands in for the remembered settings and login updates it",
          "[cli][profiles]") {
    devflow::cli::profile p;
    p.issuer = "https://a.example";
    p.client_id = "cli";
    p.cache = "/t/";
    const auto r = devflow::cli::remembered_of(p);
    CHECK(r.issuer == "https://a.example");
    CHECK_FALSE(r.scopes);  // none said: the default scopes
    const auto resolved = devflow::cli::resolve_settings(parsed({"token"}), env_of({}), r);
    CHECK(resolved.client_id == "cli");
    CHECK_FALSE(resolved.scopes);
    const devflow::cli::remembered after{"https://b.example", "other", std::vector<std::string>{"openid"},
                                         {}, "/ca.pem", {}};
    const auto q = devflow::cli::profile_after_login(p, after, std::nullopt);
    CHECK(q.issuer == "https://b.example");
    CHECK(q.scopes == std::vector<std::string>{"openid"});
    CHECK(q.cache == "/t/");
    CHECK(devflow::cli::profile_after_login(p, after, std::string("/u/")).cache == "/u/");
}

TEST_CASE("devflow profiles shows state and expiry but never a token", "[cli][profiles]") {
    devflow::cli::profile_row signed_in;
    signed_in.name = "lab";
    signed_in.is_default = true;
    signed_in.issuer = "https://sso.example.org/realms/lab";
    signed_in.client_id = "my-cli";
    signed_in.cache = "/c/lab";
    devflow::token_set t;
    t.access_token = devflow::secret{"CANARY-access"};
    t.refresh_token = devflow::secret{"CANARY-refresh"};
    t.expires_at = new_year + 59min;
    t.refresh_expires_at = new_year + 2h;
    signed_in.tokens = t;
    devflow::cli::profile_row out;
    out.name = "ci";
    out.issuer = "https://b.example";
    out.client_id = "bot";
    const std::string text = devflow::cli::format_profiles_text({signed_in, out}, new_year);
    CHECK(text ==
          "   PROFILE  ISSUER                              CLIENT  STATE          EXPIRES IN\n"
          "*  lab      https://sso.example.org/realms/lab  my-cli  signed in      token 59 min, session 2 h\n"
          "   ci       https://b.example                   bot     not signed in  -\n");
    const auto j = devflow::cli::profiles_json({signed_in, out}, "lab", new_year);
    const std::string dumped = j.dump();
    CHECK(dumped.find("CANARY") == std::string::npos);
    CHECK(j["default_profile"] == "lab");
    CHECK(j["profiles"][0]["signed_in"] == true);
    CHECK(j["profiles"][0]["access_token_expires_at"] == 1767225600 + 59 * 60);
    CHECK(j["profiles"][1]["signed_in"] == false);
    CHECK(j["profiles"][1]["session_expires_at"].is_null());
    CHECK(devflow::cli::profiles_json({}, "", new_year)["default_profile"] == "default");
    CHECK(devflow::cli::format_profiles_text({}, new_year).find("devflow login --profile") !=
          std::string::npos);
}

TEST_CASE("a profile whose store cannot be read is listed as unknown with why", "[cli][profiles]") {
    const auto new_year = std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}};
    devflow::cli::profile_row locked;
    locked.name = "desk";
    locked.issuer = "https://b.example";
    locked.client_id = "bot";
    locked.problem = "keyring store: the default keyring (\"Login\") is locked";
    const std::string text = devflow::cli::format_profiles_text({locked}, new_year);
    CHECK(text.find("desk     https://b.example  bot     unknown: keyring store: the default keyring") !=
          std::string::npos);
    const auto j = devflow::cli::profiles_json({locked}, "", new_year);
    CHECK(j["profiles"][0]["signed_in"].is_null());
    CHECK(j["profiles"][0]["problem"] == locked.problem);
}

TEST_CASE("a missing profile is named with the ones there are", "[cli][profiles]") {
    devflow::cli::config_file c;
    c.profiles["a"] = {};
    c.profiles["b"] = {};
    CHECK(devflow::cli::no_such_profile("x", c) == "no profile \"x\" (profiles: a, b)");
    CHECK(devflow::cli::no_such_profile("x", std::nullopt) == "no profile \"x\" (there are none yet)");
}
