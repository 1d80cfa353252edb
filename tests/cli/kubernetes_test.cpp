// kubectl's exec credential plugin protocol: what kubectl asks, what it reads.
#include "catch.hpp"

#include "kubernetes.hpp"

using devflow::cli::parse_exec_info;

TEST_CASE("the ExecCredential answers in the version kubectl asks for", "[cli][kubernetes]") {
    const auto v1 = parse_exec_info(
        R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}})",
        false);
    CHECK(v1.problem.empty());
    CHECK(v1.api_version == "client.authentication.k8s.io/v1");
    CHECK(v1.interactive);
    const auto beta = parse_exec_info(
        R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}})",
        true);
    CHECK(beta.problem.empty());
    CHECK(beta.api_version == "client.authentication.k8s.io/v1beta1");
    CHECK_FALSE(beta.interactive);
    // spec.interactive absent: nobody is assumed to be there.
    CHECK_FALSE(parse_exec_info(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{}})", true)
                    .interactive);
}

TEST_CASE("without KUBERNETES_EXEC_INFO the answer is v1 and the caller says who is there",
          "[cli][kubernetes]") {
    const auto none = parse_exec_info(std::nullopt, true);
    CHECK(none.problem.empty());
    CHECK(none.api_version == "client.authentication.k8s.io/v1");
    CHECK(none.interactive);
    CHECK_FALSE(parse_exec_info(std::nullopt, false).interactive);
}

TEST_CASE("an unknown version or a broken KUBERNETES_EXEC_INFO is refused", "[cli][kubernetes]") {
    CHECK(parse_exec_info(R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"})", false)
              .problem.rfind("kubectl asks for an ExecCredential of client.authentication.k8s.io/v1alpha1", 0) == 0);
    CHECK(parse_exec_info("not json", false).problem == "KUBERNETES_EXEC_INFO is not a JSON object");
    CHECK(parse_exec_info(R"({"kind":"Pod","apiVersion":"v1"})", false).problem ==
          "KUBERNETES_EXEC_INFO is not an ExecCredential");
}

TEST_CASE("the ExecCredential holds the token and its expiry in RFC 3339", "[cli][kubernetes]") {
    const std::chrono::system_clock::time_point t{std::chrono::seconds{1767225600}};
    CHECK(devflow::cli::rfc3339(t + std::chrono::milliseconds{999}) == "2026-01-01T00:00:00Z");
    CHECK(devflow::cli::exec_credential_json("client.authentication.k8s.io/v1", "CANARY-token", t).dump() ==
          R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
          R"("status":{"token":"CANARY-token","expirationTimestamp":"2026-01-01T00:00:00Z"}})");
    CHECK(devflow::cli::exec_credential_json("client.authentication.k8s.io/v1beta1", "t", std::nullopt).dump() ==
          R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}})");
}

TEST_CASE("no session and nobody to sign in is exit 7 with the command to run", "[cli][kubernetes]") {
    const auto f = devflow::cli::kubectl_not_signed_in("https://a.example", "k8s");
    CHECK(f.code == devflow::cli::exit_code::reauth);
    CHECK(f.line == "devflow: not signed in to https://a.example as client \"k8s\", and kubectl runs "
                    "this plugin without a terminal (interactiveMode); run `devflow login` first");
}
