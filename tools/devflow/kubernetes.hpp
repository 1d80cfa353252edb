// devflow CLI — `devflow kubectl-credential`: the client-go exec credential
// plugin protocol (client.authentication.k8s.io v1 and v1beta1): what
// kubectl asks in KUBERNETES_EXEC_INFO, and the ExecCredential it reads on
// stdout. Pure; tested in tests/cli/kubernetes_test.cpp; the kubeconfig side
// is in docs/kubernetes.md.
#pragma once

#include "failure.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::cli {

/// The two versions of the protocol devflow speaks.
inline constexpr std::string_view exec_credential_v1 = "client.authentication.k8s.io/v1";
inline constexpr std::string_view exec_credential_v1beta1 = "client.authentication.k8s.io/v1beta1";

/// What kubectl (client-go) said about this run of the plugin.
struct exec_info {
    std::string api_version{exec_credential_v1};  ///< the version to answer in
    bool interactive = false;  ///< a person is there to sign in (spec.interactive)
    std::string problem;       ///< why the request cannot be answered; empty when it can
};

/// Reads KUBERNETES_EXEC_INFO. Without it (an older kubectl, or a run by
/// hand) the answer is v1 and `interactive_without_info` says whether a
/// person is there. v1alpha1 (removed from Kubernetes in 1.24) and anything
/// else are refused.
inline exec_info parse_exec_info(const std::optional<std::string>& env, bool interactive_without_info) {
    exec_info info;
    if (!env) {
        info.interactive = interactive_without_info;
        return info;
    }
    const auto j = nlohmann::json::parse(*env, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        info.problem = "KUBERNETES_EXEC_INFO is not a JSON object";
        return info;
    }
    const auto kind = j.find("kind");
    const auto version = j.find("apiVersion");
    if (kind == j.end() || !kind->is_string() || kind->get<std::string>() != "ExecCredential" ||
        version == j.end() || !version->is_string()) {
        info.problem = "KUBERNETES_EXEC_INFO is not an ExecCredential";
        return info;
    }
    const std::string v = version->get<std::string>();
    if (v != exec_credential_v1 && v != exec_credential_v1beta1) {
        info.problem = "kubectl asks for an ExecCredential of " + safe_text(v, 80) +
                       "; devflow answers " + std::string(exec_credential_v1) + " and " +
                       std::string(exec_credential_v1beta1) +
                       " (set apiVersion in the kubeconfig's exec section)";
        return info;
    }
    info.api_version = v;
    if (const auto spec = j.find("spec"); spec != j.end() && spec->is_object()) {
        if (const auto i = spec->find("interactive"); i != spec->end() && i->is_boolean())
            info.interactive = i->get<bool>();
    }
    return info;
}

/// RFC 3339 in UTC, whole seconds: "2026-01-01T00:00:00Z".
inline std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(
        std::chrono::floor<std::chrono::seconds>(t));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/// The ExecCredential kubectl reads on stdout: the token, and when it
/// expires (left out when the server gave no lifetime: kubectl then runs
/// the plugin again only after a 401). kubectl caches the credential until
/// expirationTimestamp, and devflow refreshes a minute before the access
/// token expires, so the plugin normally hands out a fresh token.
inline nlohmann::ordered_json exec_credential_json(
    std::string_view api_version, std::string_view token,
    std::optional<std::chrono::system_clock::time_point> expires_at) {
    nlohmann::ordered_json j;
    j["apiVersion"] = api_version;
    j["kind"] = "ExecCredential";
    nlohmann::ordered_json status;
    status["token"] = token;
    if (expires_at) status["expirationTimestamp"] = rfc3339(*expires_at);
    j["status"] = status;
    return j;
}

/// kubectl-credential with no session when kubectl says nobody is there to
/// sign in: exit 7 and the command to run.
inline failure kubectl_not_signed_in(std::string_view issuer, std::string_view client_id) {
    std::string text = "not signed in";
    if (!issuer.empty())
        text += " to " + std::string(issuer) + " as client \"" + std::string(client_id) + "\"";
    text += ", and kubectl runs this plugin without a terminal (interactiveMode); run `devflow "
            "login` first";
    return {exit_code::reauth, "devflow: " + one_line(text), "not_signed_in"};
}

}  // namespace devflow::cli
