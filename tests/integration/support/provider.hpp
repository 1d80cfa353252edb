// The real OpenID provider of the integration tests: tests/integration/server/
// server.mjs (oidc-provider from npm) started as a child process on
// 127.0.0.1 with an ephemeral port and its own settings, one per test, so
// every test sees a fresh provider and its own counters
// (docs/integration-server.md has the settings and the counters).
#pragma once

#include "child_process.hpp"
#include "test_certificate.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/config.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/secret.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef DEVFLOW_INTEGRATION_SERVER_DIR
#error "define DEVFLOW_INTEGRATION_SERVER_DIR (tests/integration/CMakeLists.txt does)"
#endif

namespace devflow_test {

/// Where server.mjs and approve.mjs live.
inline std::string server_dir() { return DEVFLOW_INTEGRATION_SERVER_DIR; }

/// The integer at `path` in a JSON document; 0 when it is absent (the stats
/// endpoint leaves out counters that never moved).
inline std::int64_t count_at(const nlohmann::json& document, std::initializer_list<const char*> path) {
    const nlohmann::json* at = &document;
    for (const char* name : path) {
        if (!at->is_object()) return 0;
        const auto it = at->find(name);
        if (it == at->end()) return 0;
        at = &*it;
    }
    return at->is_number_integer() ? at->get<std::int64_t>() : 0;
}

/// Settings of one provider: environment variables of server.mjs.
struct provider_settings {
    /// e.g. {"DEVFLOW_INTERVAL", "1"}, {"DEVFLOW_ACCESS_TOKEN_TTL", "2"}.
    std::vector<std::pair<std::string, std::string>> env;
    /// PEM certificate and key: serve https with them.
    std::string tls_cert;
    std::string tls_key;
};

/// Settings that only set environment variables of server.mjs.
inline provider_settings with_env(std::vector<std::pair<std::string, std::string>> env) {
    provider_settings s;
    s.env = std::move(env);
    return s;
}

/// One running provider; stopped (SIGTERM) on destruction.
class provider {
public:
    /// Starts server.mjs and waits (up to 20 s) for its ready line.
    /// @throws std::runtime_error when it does not get ready
    explicit provider(provider_settings settings = {})
        : cert_(settings.tls_cert), server_(start(settings, log_dir_)) {
        const std::optional<std::string> line = server_.read_line(std::chrono::seconds{20});
        if (!line) {
            server_.terminate();
            throw std::runtime_error("the OpenID provider did not get ready (run scripts/setup.sh for "
                                     "node and `npm ci`); its stderr:\n" + log());
        }
        info_ = nlohmann::json::parse(*line);
    }

    provider(const provider&) = delete;
    provider& operator=(const provider&) = delete;

    /// The ready line, parsed (issuer, endpoints, client ids, lifetimes).
    [[nodiscard]] const nlohmann::json& info() const noexcept { return info_; }
    /// A string member of the ready line.
    [[nodiscard]] std::string at(const char* name) const { return info_.at(name).get<std::string>(); }

    [[nodiscard]] std::string issuer() const { return at("issuer"); }
    [[nodiscard]] std::string token_endpoint() const { return at("token_endpoint"); }
    [[nodiscard]] std::string device_authorization_endpoint() const {
        return at("device_authorization_endpoint");
    }
    [[nodiscard]] std::string revocation_endpoint() const { return at("revocation_endpoint"); }
    [[nodiscard]] std::string userinfo_endpoint() const { return at("userinfo_endpoint"); }
    [[nodiscard]] std::string verification_uri() const { return at("verification_uri"); }
    /// The PEM file that trusts the server's certificate; empty over http.
    [[nodiscard]] const std::string& ca_file() const noexcept { return cert_; }

    /// A config for the public client (token_endpoint_auth_method none).
    [[nodiscard]] devflow::client_config public_client(
        std::vector<std::string> scopes = {"openid", "offline_access"}) const {
        devflow::client_config cfg;
        cfg.issuer = issuer();
        cfg.device_authorization_endpoint = device_authorization_endpoint();
        cfg.token_endpoint = token_endpoint();
        cfg.revocation_endpoint = revocation_endpoint();
        cfg.client_id = at("public_client_id");
        cfg.scopes = std::move(scopes);
        return cfg;
    }

    /// A config for the confidential client (client_secret_basic).
    [[nodiscard]] devflow::client_config confidential_client(devflow::secret client_secret) const {
        devflow::client_config cfg = public_client();
        cfg.client_id = at("confidential_client_id");
        cfg.client_secret = std::move(client_secret);
        return cfg;
    }

    /// The counters of GET /__devflow/stats (through libcurl).
    [[nodiscard]] nlohmann::json stats() const {
        devflow::curl_http::options o;
        o.ca_file = cert_;
        devflow::curl_http http{o};
        devflow::http_request req;
        req.method = devflow::http_method::get;
        req.url = at("stats_endpoint");
        const devflow::http_response resp = http.send(req);
        if (!resp || resp.status != 200)
            throw std::runtime_error("GET /__devflow/stats failed: " + resp.transport_message +
                                     " HTTP " + std::to_string(resp.status));
        return nlohmann::json::parse(resp.body.reveal());
    }

    /// Destroys one access token at the provider and nothing else (the
    /// grant and its refresh token live on), as a resource server's key
    /// rotation would make it refused. True when the provider knew it.
    bool drop_access_token(const devflow::secret& token) const {
        devflow::curl_http::options o;
        o.ca_file = cert_;
        devflow::curl_http http{o};
        devflow::http_request req;
        req.method = devflow::http_method::post;
        req.url = at("drop_access_token_endpoint");
        req.headers.push_back({"content-type", devflow::secret{"application/x-www-form-urlencoded"}});
        req.body = devflow::detail::form_encode({{"token", token.reveal()}});
        const devflow::http_response resp = http.send(req);
        if (!resp) throw std::runtime_error("POST /__devflow/access-token/drop failed: " + resp.transport_message);
        return resp.status == 200;
    }

    /// One counter of stats(), e.g. stat({"token_errors", "slow_down"}).
    [[nodiscard]] std::int64_t stat(std::initializer_list<const char*> path) const {
        return count_at(stats(), path);
    }

    /// What the server wrote to stderr so far (warnings; never a token).
    [[nodiscard]] std::string log() const {
        std::ifstream in(log_dir_.path() / "server.log");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    static child_process start(const provider_settings& settings, const temp_dir& dir) {
        child_options o;
        o.argv = {"node", server_dir() + "/server.mjs"};
        o.env = settings.env;
        o.env.emplace_back("PORT", "0");
        if (!settings.tls_cert.empty()) {
            o.env.emplace_back("DEVFLOW_TLS_CERT", settings.tls_cert);
            o.env.emplace_back("DEVFLOW_TLS_KEY", settings.tls_key);
        }
        o.stdout_pipe = true;
        o.stderr_file = (dir.path() / "server.log").string();
        return child_process(o);
    }

    temp_dir log_dir_;  // first: the server writes its log here
    std::string cert_;
    child_process server_;
    nlohmann::json info_;
};

}  // namespace devflow_test
