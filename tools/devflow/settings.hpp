// devflow CLI — where the cache is, what `devflow login` remembers beside it,
// and how flags, environment and remembered settings combine (pure; tested
// in tests/cli/settings_test.cpp).
#pragma once

#include "arguments.hpp"

#include <devflow/display.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// Looks up an environment variable; std::nullopt when unset or empty.
using environment = std::function<std::optional<std::string>(std::string_view name)>;

/// Where tokens are cached: a directory of records (file_store's directory
/// mode) or one file (file_store::single_file).
struct cache_location {
    std::filesystem::path path;
    bool single_file = false;
};

/// The cache from --cache, else $DEVFLOW_CACHE, else `default_directory`. A
/// path names a directory when it ends in '/' or is an existing directory;
/// anything else names a single file.
inline cache_location resolve_cache(const options& o, const environment& env,
                                    const std::function<std::filesystem::path()>& default_directory,
                                    const std::function<bool(const std::filesystem::path&)>& is_directory) {
    std::optional<std::string> given = o.cache;
    if (!given) given = env("DEVFLOW_CACHE");
    if (!given) return {default_directory(), false};
    const std::filesystem::path p(*given);
    if (given->back() == '/' || is_directory(p)) return {p, false};
    return {p, true};
}

/// The remembered-settings file beside the cache: `DIR/cli-settings.json` in
/// directory mode, `FILE.cli-settings.json` in single-file mode.
inline std::filesystem::path settings_path(const cache_location& cache) {
    if (cache.single_file) {
        std::filesystem::path p = cache.path;
        p += ".cli-settings.json";
        return p;
    }
    return cache.path / "cli-settings.json";
}

/// What `devflow login` remembers for later commands. Never a secret: only
/// the name of the variable that holds a client secret.
struct remembered {
    std::string issuer;
    std::string client_id;
    /// std::nullopt: none said (login then asks for openid when offered).
    std::optional<std::vector<std::string>> scopes;
    std::string client_secret_env;
    std::string ca_file;  ///< --ca-file, absolute; empty: the system's CAs
    std::string proxy;    ///< --proxy; empty: https_proxy (or none)
    std::string store{};  ///< the store the session lives in ("file", "keyring", "auto"); empty: files (written before devflow had a choice)

    friend bool operator==(const remembered&, const remembered&) = default;
};

/// The remembered settings as the JSON text of the settings file.
inline std::string remembered_to_json(const remembered& r) {
    nlohmann::ordered_json j;
    j["devflow_cli_settings"] = 1;
    j["issuer"] = r.issuer;
    j["client_id"] = r.client_id;
    if (r.scopes) j["scopes"] = *r.scopes;
    if (!r.client_secret_env.empty()) j["client_secret_env"] = r.client_secret_env;
    if (!r.ca_file.empty()) j["ca_file"] = r.ca_file;
    if (!r.proxy.empty()) j["proxy"] = r.proxy;
    if (!r.store.empty()) j["store"] = r.store;
    return j.dump(2) + "\n";
}

/// Reads a settings file; std::nullopt when it is not one (then it is ignored).
inline std::optional<remembered> remembered_from_json(std::string_view text) {
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    const auto version = j.find("devflow_cli_settings");
    if (version == j.end() || !version->is_number_integer() || version->get<int>() != 1)
        return std::nullopt;
    remembered r;
    const auto issuer = j.find("issuer");
    const auto client = j.find("client_id");
    if (issuer == j.end() || !issuer->is_string() || client == j.end() || !client->is_string())
        return std::nullopt;
    r.issuer = issuer->get<std::string>();
    r.client_id = client->get<std::string>();
    if (const auto s = j.find("scopes"); s != j.end()) {
        if (!s->is_array()) return std::nullopt;
        r.scopes.emplace();
        for (const auto& item : *s) {
            if (!item.is_string()) return std::nullopt;
            r.scopes->push_back(item.get<std::string>());
        }
    }
    for (auto [name, target] : {std::pair<const char*, std::string*>{"client_secret_env", &r.client_secret_env},
                                {"ca_file", &r.ca_file},
                                {"proxy", &r.proxy},
                                {"store", &r.store}}) {
        const auto e = j.find(name);
        if (e == j.end()) continue;
        if (!e->is_string()) return std::nullopt;
        *target = e->get<std::string>();
    }
    if (r.issuer.empty() || r.client_id.empty()) return std::nullopt;
    return r;
}

/// The line `devflow login` says when the remembered client or issuer
/// changes: later commands without options follow the new one, and the user
/// is told so.
inline std::string settings_switch_line(const remembered& before, const remembered& after) {
    return "devflow: later commands use client \"" + devflow::safe_text(after.client_id, 200) +
           "\" at " + devflow::safe_text(after.issuer, 200) + " (they used client \"" +
           devflow::safe_text(before.client_id, 200) + "\" at " +
           devflow::safe_text(before.issuer, 200) + ")\n";
}

/// The settings a command runs with.
struct resolved {
    std::string issuer;      ///< empty when nothing said
    std::string client_id;   ///< empty when nothing said
    /// std::nullopt when nothing said: login then asks for openid when the
    /// server offers it; the other commands look for that same record.
    std::optional<std::vector<std::string>> scopes;
    std::string client_secret_env;  ///< empty for a public client
    std::string ca_file;            ///< empty: the system's CA certificates
    std::string proxy;              ///< empty: https_proxy from the environment, if any
    std::string store;              ///< --store's word; "auto" when nothing said
    std::string store_source = "--store";  ///< where `store` came from, for errors
};

/// Combines the command line, the environment (DEVFLOW_ISSUER,
/// DEVFLOW_CLIENT_ID, DEVFLOW_SCOPES) and the remembered settings, in that
/// order (DEVFLOW_CA_FILE and DEVFLOW_STORE too). Remembered values count only for the
/// remembered issuer (and its client): naming another server starts from a
/// clean slate.
inline resolved resolve_settings(const options& o, const environment& env,
                                 const std::optional<remembered>& memory) {
    resolved r;
    if (o.issuer) {
        r.issuer = *o.issuer;
    } else if (auto e = env("DEVFLOW_ISSUER")) {
        r.issuer = *e;
    } else if (memory) {
        r.issuer = memory->issuer;
    }
    const bool same_issuer = memory && memory->issuer == r.issuer;
    if (o.client_id) {
        r.client_id = *o.client_id;
    } else if (auto e = env("DEVFLOW_CLIENT_ID")) {
        r.client_id = *e;
    } else if (same_issuer) {
        r.client_id = memory->client_id;
    }
    const bool same_client = same_issuer && memory->client_id == r.client_id;
    if (o.scopes) {
        r.scopes = *o.scopes;
    } else if (auto e = env("DEVFLOW_SCOPES")) {
        r.scopes = split_words(*e);
    } else if (same_client) {
        r.scopes = memory->scopes;
    }
    if (o.client_secret_env) {
        r.client_secret_env = *o.client_secret_env;
    } else if (same_client) {
        r.client_secret_env = memory->client_secret_env;
    }
    // The server's CA and the way to it go with the server, not the client.
    if (o.ca_file) {
        r.ca_file = *o.ca_file;
    } else if (auto e = env("DEVFLOW_CA_FILE")) {
        r.ca_file = *e;
    } else if (same_issuer) {
        r.ca_file = memory->ca_file;
    }
    if (o.proxy) {
        r.proxy = *o.proxy;
    } else if (same_issuer) {
        r.proxy = memory->proxy;
    }
    // The store goes with the session: where login left it. Settings that
    // name none were written before devflow had a choice: their session is
    // in files.
    r.store = "auto";
    if (o.store) {
        r.store = *o.store;
    } else if (auto e = env("DEVFLOW_STORE")) {
        r.store = *e;
        r.store_source = "DEVFLOW_STORE";
    } else if (same_client) {
        r.store = memory->store.empty() ? std::string("file") : memory->store;
        r.store_source = "the remembered settings";
    }
    return r;
}

/// The scopes `devflow login` asks for when none were given: openid when the
/// server lists it (or lists nothing but speaks OpenID Connect Discovery), so
/// that an id_token names the user in `devflow status`; else none.
inline std::vector<std::string> default_scopes(const std::vector<std::string>& scopes_supported,
                                               bool openid_configuration) {
    for (const auto& s : scopes_supported)
        if (s == "openid") return {"openid"};
    if (scopes_supported.empty() && openid_configuration) return {"openid"};
    return {};
}

}  // namespace devflow::cli
