// git's credential helper protocol: what git asks, what devflow answers,
// and to whom it gives a token.
#include "catch.hpp"

#include "git.hpp"

using devflow::cli::parse_credential_request;

TEST_CASE("git's request is read up to the empty line", "[cli][git]") {
    const auto r = parse_credential_request(
        "protocol=https\nhost=git.example.org:8443\npath=team/repo.git\nusername=alice\n"
        "wwwauth[]=Basic realm=\"x\"\n\nhost=ignored\n");
    CHECK(r.problem.empty());
    CHECK(r.protocol == "https");
    CHECK(r.host == "git.example.org:8443");
    CHECK(r.path == "team/repo.git");
    CHECK(r.username == "alice");
    CHECK(r.password.empty());
    const auto erase = parse_credential_request("protocol=https\r\nhost=h\r\npassword=CANARY-token\r\n");
    CHECK(erase.password.reveal() == "CANARY-token");
    CHECK(parse_credential_request("protocol=https\nhost=a\nhost=b\n").host == "a");
}

TEST_CASE("a request that breaks the protocol is named", "[cli][git]") {
    CHECK(parse_credential_request("protocol https\n").problem == "git sent a line that is not key=value");
    CHECK(parse_credential_request(std::string_view("host=a\0b\n", 9)).problem ==
          "git sent a value with a NUL byte");
}

TEST_CASE("a token goes only to the helper's host and only over https", "[cli][git]") {
    using devflow::cli::refusal_for;
    auto req = [](std::string protocol, std::string host) {
        devflow::cli::credential_request r;
        r.protocol = std::move(protocol);
        r.host = std::move(host);
        return r;
    };
    CHECK(refusal_for(req("https", "git.example.org"), "git.example.org").empty());
    CHECK(refusal_for(req("https", "Git.Example.org"), "git.example.org").empty());
    CHECK(refusal_for(req("https", "evil.example"), "git.example.org") ==
          "not giving a token to evil.example: this helper serves git.example.org (--host)");
    CHECK(refusal_for(req("https", "git.example.org:8443"), "git.example.org") != "");
    CHECK(refusal_for(req("http", "git.example.org"), "git.example.org") ==
          "not giving a token to http://git.example.org: only https carries it");
    CHECK(refusal_for(req("http", "127.0.0.1:8080"), "127.0.0.1:8080").empty());
    CHECK(refusal_for(req("http", "localhost"), "localhost").empty());
    CHECK(refusal_for(req("ssh", "git.example.org"), "git.example.org") != "");
}

TEST_CASE("git gets the username and the token, and when it expires", "[cli][git]") {
    const std::chrono::system_clock::time_point t{std::chrono::seconds{1767225600}};
    CHECK(devflow::cli::credential_answer("oauth2", "CANARY-token", t) ==
          "username=oauth2\npassword=CANARY-token\npassword_expiry_utc=1767225600\n");
    CHECK(devflow::cli::credential_answer("x", "t", std::nullopt) == "username=x\npassword=t\n");
    devflow::cli::credential_request r;
    CHECK(devflow::cli::git_username(std::nullopt, r) == "oauth2");
    r.username = "alice";
    CHECK(devflow::cli::git_username(std::nullopt, r) == "alice");
    CHECK(devflow::cli::git_username(std::string("x-access-token"), r) == "x-access-token");
}

TEST_CASE("setup-git names the host's helper as gh does, shell-quoted", "[cli][git]") {
    CHECK(devflow::cli::git_helper_key("git.example.org") == "credential.https://git.example.org.helper");
    CHECK(devflow::cli::git_helper_command({"/usr/bin/devflow", "--profile", "lab", "git-credential"}) ==
          "!'/usr/bin/devflow' '--profile' 'lab' 'git-credential'");
    CHECK(devflow::cli::git_helper_command({"/opt/it's/devflow"}) == "!'/opt/it'\\''s/devflow'");
    using devflow::cli::valid_git_host;
    CHECK(valid_git_host("git.example.org"));
    CHECK(valid_git_host("127.0.0.1:8443"));
    CHECK_FALSE(valid_git_host("https://git.example.org"));
    CHECK_FALSE(valid_git_host("git.example.org/team"));
    CHECK_FALSE(valid_git_host("user@git.example.org"));
    CHECK_FALSE(valid_git_host(""));
    CHECK_FALSE(valid_git_host("a b"));
}
