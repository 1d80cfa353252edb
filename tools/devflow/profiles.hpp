// devflow CLI — named profiles: the config file that keeps them
// ($XDG_CONFIG_HOME/devflow/config.json), read strictly; which profile a
// command uses; and what `devflow profiles` shows. Pure; tested in
// tests/cli/profiles_test.cpp. docs/cli.md ("Profiles") is the user's view.
#pragma once

#include "failure.hpp"
#include "settings.hpp"
#include "status.hpp"
#include "store_choice.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// The version of the config file format this devflow reads and writes.
inline constexpr int config_version = 1;

/// The name that stands for no named profile: the settings `devflow login`
/// remembers beside the default cache. No profile may be called so.
inline constexpr std::string_view unnamed_profile = "default";

/// One named profile: what login would otherwise remember, plus the cache.
struct profile {
    std::string issuer;
    std::string client_id;
    std::optional<std::vector<std::string>> scopes;  ///< absent: the default (openid when offered)
    std::string client_secret_env;                   ///< a variable's name, never a secret
    std::string cache;  ///< absolute; empty: a directory of its own under the state directory
    std::string ca_file;  ///< absolute; empty: the system's CA certificates
    std::string proxy;    ///< empty: https_proxy from the environment, if any
    std::string store{};  ///< "file", "keyring" or "auto"; empty: files (as before devflow had a choice)

    friend bool operator==(const profile&, const profile&) = default;
};

/// The config file: the profiles, and the one commands use by default.
struct config_file {
    std::string default_profile;  ///< empty: none (the unnamed settings)
    std::map<std::string, profile> profiles;

    friend bool operator==(const config_file&, const config_file&) = default;
};

/// The config file, or what is wrong with it.
struct config_result {
    std::optional<config_file> config;
    std::string problem;      ///< one phrase, when `config` is empty
    bool newer_version = false;  ///< the file is of a version this devflow does not read
};

/// True for a name a profile may have: 1 to 64 letters, digits, '.', '_'
/// or '-', starting with a letter or a digit; never "default".
inline bool valid_profile_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name == unnamed_profile) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
    }
    return true;
}

/// Where the config file is: $XDG_CONFIG_HOME/devflow/config.json when that
/// is an absolute path, else HOME/.config/devflow/config.json.
inline std::filesystem::path config_path(const environment& env,
                                         const std::function<std::filesystem::path()>& home) {
    if (auto x = env("XDG_CONFIG_HOME"); x && std::filesystem::path(*x).is_absolute())
        return std::filesystem::path(*x) / "devflow" / "config.json";
    return home() / ".config" / "devflow" / "config.json";
}

/// Reads the config file's text strictly: every key known, every value of
/// its type, the version this devflow reads. Anything else is refused with
/// a phrase naming the key (never guessed at: a misspelt "issuer" must not
/// send a command somewhere else).
inline config_result config_from_json(std::string_view text) {
    config_result r;
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
        r.problem = "it is not a JSON object";
        return r;
    }
    const auto version = j.find("devflow_config");
    if (version == j.end() || !version->is_number_integer()) {
        r.problem = "it has no \"devflow_config\" version number";
        return r;
    }
    if (version->get<long long>() != config_version) {
        r.newer_version = version->get<long long>() > config_version;
        r.problem = "it is of version " + std::to_string(version->get<long long>()) +
                    ", and this devflow reads version " + std::to_string(config_version);
        return r;
    }
    config_file c;
    auto text_of = [&](const nlohmann::json& v, const std::string& what, std::string& out) {
        if (!v.is_string()) {
            r.problem = what + " must be a string";
            return false;
        }
        out = v.get<std::string>();
        return true;
    };
    for (const auto& [key, value] : j.items()) {
        if (key == "devflow_config") continue;
        if (key == "default_profile") {
            if (!text_of(value, "\"default_profile\"", c.default_profile)) return r;
            continue;
        }
        if (key != "profiles") {
            r.problem = "it has an unknown key \"" + safe_text(key, 64) + "\"";
            return r;
        }
        if (!value.is_object()) {
            r.problem = "\"profiles\" must be an object";
            return r;
        }
        for (const auto& [name, entry] : value.items()) {
            const std::string shown = "profile \"" + safe_text(name, 64) + "\"";
            if (!valid_profile_name(name)) {
                r.problem = name == unnamed_profile
                                ? "\"default\" is reserved for the settings login remembers "
                                  "without a profile; rename that profile"
                                : "\"" + safe_text(name, 64) +
                                      "\" is not a profile name (letters, digits, '.', '_', '-')";
                return r;
            }
            if (!entry.is_object()) {
                r.problem = shown + " must be an object";
                return r;
            }
            profile p;
            for (const auto& [k, v] : entry.items()) {
                const std::string what = "\"" + k + "\" of " + shown;
                if (k == "issuer") {
                    if (!text_of(v, what, p.issuer)) return r;
                } else if (k == "client_id") {
                    if (!text_of(v, what, p.client_id)) return r;
                } else if (k == "client_secret_env") {
                    if (!text_of(v, what, p.client_secret_env)) return r;
                } else if (k == "cache" || k == "ca_file") {
                    std::string& path = k == "cache" ? p.cache : p.ca_file;
                    if (!text_of(v, what, path)) return r;
                    if (!std::filesystem::path(path).is_absolute()) {
                        r.problem = what + " must be an absolute path";
                        return r;
                    }
                } else if (k == "proxy") {
                    if (!text_of(v, what, p.proxy)) return r;
                } else if (k == "store") {
                    if (!text_of(v, what, p.store)) return r;
                    if (const store_parse sp = parse_store(p.store, what); !sp.request) {
                        r.problem = sp.error;
                        return r;
                    }
                } else if (k == "scopes") {
                    if (!v.is_array()) {
                        r.problem = what + " must be an array of strings";
                        return r;
                    }
                    p.scopes.emplace();
                    for (const auto& s : v) {
                        if (!s.is_string()) {
                            r.problem = what + " must be an array of strings";
                            return r;
                        }
                        p.scopes->push_back(s.get<std::string>());
                    }
                } else {
                    r.problem = "it has an unknown key \"" + safe_text(k, 64) + "\" in " + shown;
                    return r;
                }
            }
            c.profiles.emplace(name, std::move(p));
        }
    }
    if (!c.default_profile.empty() && c.profiles.count(c.default_profile) == 0) {
        r.problem = "\"default_profile\" names \"" + safe_text(c.default_profile, 64) +
                    "\", which is not one of its profiles";
        return r;
    }
    r.config = std::move(c);
    return r;
}

/// The config file's text (keys in a fixed order, two-space indents).
inline std::string config_to_json(const config_file& c) {
    nlohmann::ordered_json j;
    j["devflow_config"] = config_version;
    if (!c.default_profile.empty()) j["default_profile"] = c.default_profile;
    nlohmann::ordered_json profiles = nlohmann::ordered_json::object();
    for (const auto& [name, p] : c.profiles) {
        nlohmann::ordered_json e = nlohmann::ordered_json::object();
        if (!p.issuer.empty()) e["issuer"] = p.issuer;
        if (!p.client_id.empty()) e["client_id"] = p.client_id;
        if (p.scopes) e["scopes"] = *p.scopes;
        if (!p.client_secret_env.empty()) e["client_secret_env"] = p.client_secret_env;
        if (!p.cache.empty()) e["cache"] = p.cache;
        if (!p.ca_file.empty()) e["ca_file"] = p.ca_file;
        if (!p.proxy.empty()) e["proxy"] = p.proxy;
        if (!p.store.empty()) e["store"] = p.store;
        profiles[name] = e;
    }
    j["profiles"] = profiles;
    return j.dump(2) + "\n";
}

/// The profile a command uses: --profile, else $DEVFLOW_PROFILE, else the
/// config file's default_profile; "" for none (the unnamed settings, also
/// spelled "default").
inline std::string selected_profile(const options& o, const environment& env,
                                    const std::optional<config_file>& config) {
    std::string name;
    if (o.profile)
        name = *o.profile;
    else if (auto e = env("DEVFLOW_PROFILE"))
        name = *e;
    else if (config)
        name = config->default_profile;
    return name == unnamed_profile ? std::string{} : name;
}

/// A profile's settings as the remembered settings they stand in for.
inline remembered remembered_of(const profile& p) {
    return {p.issuer, p.client_id, p.scopes, p.client_secret_env, p.ca_file, p.proxy, p.store};
}

/// The profile after a login that used `r` (issuer, client, scopes and
/// secret variable replaced; the cache kept unless `cache` is given).
inline profile profile_after_login(profile p, const remembered& r,
                                   const std::optional<std::string>& cache) {
    p.issuer = r.issuer;
    p.client_id = r.client_id;
    p.scopes = r.scopes;
    p.client_secret_env = r.client_secret_env;
    p.ca_file = r.ca_file;
    p.proxy = r.proxy;
    p.store = r.store;
    if (cache) p.cache = *cache;
    return p;
}

/// A profile's cache: its own `cache`, else a directory of its own,
/// STATE/profiles/NAME/ (STATE: the default cache directory).
inline cache_location profile_cache(const std::string& name, const profile& p,
                                    const std::filesystem::path& state_directory,
                                    const std::function<bool(const std::filesystem::path&)>& is_directory) {
    if (!p.cache.empty()) {
        const std::filesystem::path path(p.cache);
        if (p.cache.back() == '/' || is_directory(path)) return {path, false};
        return {path, true};
    }
    return {state_directory / "profiles" / name, false};
}

/// "no profile "x" (profiles: a, b)".
inline std::string no_such_profile(std::string_view name, const std::optional<config_file>& config) {
    std::vector<std::string> names;
    if (config)
        for (const auto& [n, p] : config->profiles) names.push_back(n);
    std::string text = "no profile \"" + safe_text(name, 64) + "\"";
    text += names.empty() ? std::string(" (there are none yet)") : " (profiles: " + join(names, ", ") + ")";
    return text;
}

/// A config file that cannot be used: exit 2 (configuration), naming the
/// file and the problem; a newer format says to upgrade.
inline failure config_file_failure(std::string_view file, const config_result& r) {
    std::string text = "devflow: the config file " + one_line(file) + " cannot be used: " +
                       one_line(r.problem);
    text += r.newer_version ? "; a newer devflow wrote it: upgrade devflow (the file is left as it is)"
                            : "; fix it or remove it";
    return {exit_code::usage, text, "config_file"};
}

// ------------------------------------------------------------ devflow profiles

/// One line of `devflow profiles`.
struct profile_row {
    std::string name;  ///< "default" for the unnamed settings
    bool is_default = false;  ///< what commands without --profile use
    std::string issuer;
    std::string client_id;
    std::string cache;
    std::optional<token_set> tokens;  ///< from the profile's cache, without any request
    /// Why its store could not be read ("" when it could), e.g. a keyring
    /// that is locked or not reachable: the row is listed all the same.
    std::string problem;
};

/// "signed in", "session ended", "not signed in", or "unknown: <why>" when
/// its store could not be read.
inline std::string row_state(const profile_row& r, wall_time now) {
    if (!r.problem.empty()) return "unknown: " + one_line(r.problem, 100);
    if (!r.tokens) return "not signed in";
    const bool in = r.tokens->access_token_valid(now) || r.tokens->refresh_token_valid(now);
    return in ? "signed in" : "session ended";
}

/// When the session's tokens expire, for a person: the access token's end
/// and the refresh token's ("-" when unknown).
inline std::string row_expiry(const profile_row& r, wall_time now) {
    if (!r.tokens) return "-";
    const token_set& t = *r.tokens;
    std::string out;
    if (t.expires_at)
        out = *t.expires_at > now
                  ? "token " + format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                                   *t.expires_at - now))
                  : "token expired";
    if (t.refresh_expires_at && *t.refresh_expires_at > now)
        out += (out.empty() ? "" : ", ") + std::string("session ") +
               format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                   *t.refresh_expires_at - now));
    return out.empty() ? "-" : out;
}

/// The table `devflow profiles` prints: one row a profile, '*' before the
/// default. Never a token.
inline std::string format_profiles_text(const std::vector<profile_row>& rows, wall_time now) {
    if (rows.empty())
        return "No profiles; create one with `devflow login --profile NAME --issuer URL "
               "--client-id ID`.\n";
    std::vector<std::vector<std::string>> cells{{"", "PROFILE", "ISSUER", "CLIENT", "STATE", "EXPIRES IN"}};
    for (const auto& r : rows)
        cells.push_back({r.is_default ? "*" : "", one_line(r.name, 64), one_line(r.issuer, 120),
                         one_line(r.client_id, 64), row_state(r, now), row_expiry(r, now)});
    std::vector<std::size_t> width(cells.front().size(), 0);
    for (const auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
    std::string out;
    for (const auto& line : cells) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            text += line[i];
            if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out += text + "\n";
    }
    return out;
}

/// `devflow profiles --json`: {"default_profile":NAME,"profiles":[...]}.
/// Never a token.
inline nlohmann::ordered_json profiles_json(const std::vector<profile_row>& rows,
                                            std::string_view default_profile, wall_time now) {
    nlohmann::ordered_json j;
    j["default_profile"] = default_profile.empty() ? unnamed_profile : default_profile;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    auto seconds = [](wall_time w) {
        return std::chrono::duration_cast<std::chrono::seconds>(w.time_since_epoch()).count();
    };
    for (const auto& r : rows) {
        nlohmann::ordered_json e;
        e["name"] = r.name;
        e["default"] = r.is_default;
        e["issuer"] = r.issuer;
        e["client_id"] = r.client_id;
        e["cache"] = r.cache;
        const bool in = r.tokens && (r.tokens->access_token_valid(now) ||
                                     r.tokens->refresh_token_valid(now));
        // null when the store could not be read: not known, not "signed out".
        e["signed_in"] = r.problem.empty() ? nlohmann::ordered_json(in) : nullptr;
        e["access_token_expires_at"] = r.tokens && r.tokens->expires_at
                                           ? nlohmann::ordered_json(seconds(*r.tokens->expires_at))
                                           : nullptr;
        e["session_expires_at"] = r.tokens && r.tokens->refresh_expires_at
                                      ? nlohmann::ordered_json(seconds(*r.tokens->refresh_expires_at))
                                      : nullptr;
        e["problem"] = r.problem.empty() ? nullptr : nlohmann::ordered_json(r.problem);
        list.push_back(e);
    }
    j["profiles"] = list;
    return j;
}

/// What `devflow use NAME` says.
inline std::string use_line(std::string_view name) {
    if (name.empty() || name == unnamed_profile)
        return "devflow: commands without --profile now use the default settings (no profile)\n";
    return "devflow: commands without --profile now use profile \"" + one_line(name, 64) + "\"\n";
}

}  // namespace devflow::cli
