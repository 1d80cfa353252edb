// The devflow command line: commands, options in any position, both value
// spellings, and a one-line usage error for everything else.
#include "catch.hpp"

#include "arguments.hpp"
#include "help.hpp"

using devflow::cli::command;
using devflow::cli::parse_arguments;

namespace {
devflow::cli::parse_result parse(std::vector<std::string_view> args) {
    return parse_arguments(args);
}
}  // namespace

TEST_CASE("login takes issuer client and repeated scopes", "[cli][arguments]") {
    const auto r = parse({"login", "--issuer", "https://a.example", "--client-id=cli", "--scope",
                          "openid", "--scope", "profile email"});
    REQUIRE(r.ok());
    CHECK(r.opts.cmd == command::login);
    CHECK(r.opts.issuer == "https://a.example");
    CHECK(r.opts.client_id == "cli");
    REQUIRE(r.opts.scopes);
    CHECK(*r.opts.scopes == std::vector<std::string>{"openid", "profile", "email"});
}

TEST_CASE("options may come before the command", "[cli][arguments]") {
    const auto r = parse({"--cache", "/tmp/x/", "--json", "--no-browser", "token"});
    REQUIRE(r.ok());
    CHECK(r.opts.cmd == command::token);
    CHECK(r.opts.cache == "/tmp/x/");
    CHECK(r.opts.json);
    CHECK(r.opts.no_browser);
    CHECK_FALSE(r.opts.scopes);
}

TEST_CASE("an empty scope option asks for no scope at all", "[cli][arguments]") {
    const auto r = parse({"login", "--scope="});
    REQUIRE(r.ok());
    REQUIRE(r.opts.scopes);
    CHECK(r.opts.scopes->empty());
}

TEST_CASE("help and version win over the command", "[cli][arguments]") {
    CHECK(parse({"login", "--help"}).opts.cmd == command::help);
    CHECK(parse({"-h"}).opts.cmd == command::help);
    CHECK(parse({"help"}).opts.cmd == command::help);
    CHECK(parse({"--version"}).opts.cmd == command::version);
    CHECK(parse({"version"}).opts.cmd == command::version);
    CHECK(parse({}).opts.cmd == command::none);
    // --help wins over a command line that is otherwise wrong for the command.
    CHECK(parse({"token", "--force", "--help"}).ok());
}

TEST_CASE("help names the command to describe however it is asked", "[cli][arguments]") {
    for (const auto& args : std::vector<std::vector<std::string_view>>{
             {"help", "login"}, {"login", "--help"}, {"--help", "login"}, {"login", "-h"},
             {"help", "login", "--help"}}) {
        const auto r = parse(args);
        REQUIRE(r.ok());
        CHECK(r.opts.cmd == command::help);
        CHECK(r.opts.help_topic == command::login);
    }
    CHECK(parse({"help"}).opts.help_topic == command::none);
    CHECK(parse({"--help"}).opts.help_topic == command::none);
    CHECK(parse({"help", "frobnicate"}).error ==
          "unknown command \"frobnicate\" (commands: login, token, status, logout, keep-alive, kubectl-credential, git-credential, setup-git, profiles, use, completion)");
    CHECK(parse({"help", "login", "token"}).error == "more than one command given (\"token\")");
}

TEST_CASE("every option in the table is parsed into its place", "[cli][arguments]") {
    for (const auto& o : devflow::cli::option_table()) {
        if (o.name == "--help" || o.name == "--version") continue;
        const auto command = o.commands.empty() ? std::string_view("login")
                                                : devflow::cli::info_of(o.commands.front())->name;
        std::vector<std::string_view> args{command, o.name};
        if (!o.metavar.empty()) args.push_back("value");
        if (const auto* c = devflow::cli::find_command(command); c->argument_required)
            args.push_back(c->argument_choices.empty() ? std::string_view("x") : c->argument_choices.front());
        const auto r = parse(args);
        INFO(o.name);
        REQUIRE(r.ok());
        if (o.flag != nullptr) CHECK(r.opts.*(o.flag));
        if (o.value != nullptr) CHECK(r.opts.*(o.value) == "value");
        if (o.scope_list) CHECK(r.opts.scopes == std::vector<std::string>{"value"});
        if (!o.alias.empty()) {
            args[1] = o.alias;
            CHECK(parse(args).ok());
        }
    }
}

TEST_CASE("usage errors are one line naming the problem", "[cli][arguments]") {
    CHECK(parse({"frobnicate"}).error == "unknown command \"frobnicate\" (commands: login, token, status, logout, keep-alive, kubectl-credential, git-credential, setup-git, profiles, use, completion)");
    CHECK(parse({"login", "--issuer"}).error == "option --issuer needs a value");
    CHECK(parse({"login", "--issuer="}).error == "option --issuer needs a non-empty value");
    CHECK(parse({"login", "--bogus"}).error == "unknown option --bogus");
    CHECK(parse({"login", "token"}).error == "more than one command given (\"token\")");
    CHECK(parse({"token", "--json=yes"}).error == "option --json takes no value");
    CHECK(parse({"token", "--force"}).error == "--force goes with login only");
    CHECK(parse({"login", "--force"}).ok());
    CHECK(parse({"git-credential"}).error == "git-credential needs OPERATION (get, store or erase)");
    CHECK(parse({"git-credential", "fill"}).error ==
          "git-credential does not know \"fill\" (OPERATION: get, store or erase)");
    CHECK(parse({"token", "--host", "h"}).error == "--host goes with git-credential and setup-git only");
}

TEST_CASE("the help text lists every command and every exit code", "[cli][arguments]") {
    const std::string text = devflow::cli::usage_text();
    for (const char* word : {"login", "token", "status", "logout", "--cache", "--no-browser",
                             "--json", "--client-secret-env", "130"})
        CHECK(text.find(word) != std::string::npos);
}
