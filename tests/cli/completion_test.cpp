// The shell completions and the man page are made from the same tables as
// the help: every command and option reaches each of them. (The scripts run
// in the real shells, and the man page in groff, in cli_test.mjs.)
#include "catch.hpp"

#include "completion.hpp"
#include "manpage.hpp"

namespace {
bool has(const std::string& text, std::string_view word) {
    return text.find(word) != std::string::npos;
}
}  // namespace

TEST_CASE("every completion script offers every command and option", "[cli][completion]") {
    for (const char* shell : {"bash", "zsh", "fish"}) {
        const std::string script = devflow::cli::completion_script(shell);
        INFO(shell);
        REQUIRE_FALSE(script.empty());
        for (const auto& c : devflow::cli::command_table()) {
            if (c.hidden) {
                CHECK_FALSE(has(script, " " + std::string(c.name) + " "));
                continue;
            }
            CHECK(has(script, c.name));
            for (auto choice : c.argument_choices) CHECK(has(script, choice));
        }
        for (const auto& o : devflow::cli::option_table()) {
            // fish spells options without their dashes (-l issuer, -s v).
            const std::string name = std::string(shell) == "fish" ? "-l " + std::string(o.name.substr(2))
                                                                  : std::string(o.name);
            CHECK(has(script, name) != o.hidden);
        }
    }
    CHECK(devflow::cli::completion_script("tcsh").empty());
}

TEST_CASE("bash completes each command's own options only", "[cli][completion]") {
    const std::string script = devflow::cli::bash_completion();
    const auto line_of = [&](std::string_view command) {
        const auto at = script.find("            " + std::string(command) + ") opts='");
        REQUIRE(at != std::string::npos);
        return script.substr(at, script.find('\n', at) - at);
    };
    CHECK(has(line_of("login"), " --force "));
    CHECK_FALSE(has(line_of("token"), "--force"));
    CHECK(has(line_of("token"), " --id-token "));
    CHECK_FALSE(has(line_of("profiles"), "--issuer"));
}

TEST_CASE("single quotes survive shell quoting", "[cli][completion]") {
    CHECK(devflow::cli::shell_quote("it's") == "'it'\\''s'");
    CHECK(devflow::cli::shell_quote("") == "''");
}

TEST_CASE("the man page has every command, option, variable and exit code", "[cli][man]") {
    const std::string page = devflow::cli::man_page("1.2.3");
    CHECK(page.find(".TH DEVFLOW 1 \"\" \"devflow 1.2.3\"") != std::string::npos);
    for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS",
                                ".SH OPTIONS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXIT STATUS",
                                ".SH EXAMPLES", ".SH SEE ALSO"})
        CHECK(has(page, section));
    for (const auto& c : devflow::cli::command_table())
        CHECK(has(page, "\\fBdevflow " + devflow::cli::troff(c.name) + "\\fR") != c.hidden);
    for (const auto& o : devflow::cli::option_table()) {
        CHECK(has(page, devflow::cli::troff_option_tag(o)) != o.hidden);
        if (!o.env.empty()) CHECK(has(page, ".B " + devflow::cli::troff(o.env)));
    }
    for (const auto& e : devflow::cli::exit_code_table())
        CHECK(has(page, ".TP\n.B " + std::to_string(static_cast<int>(e.code)) + "\n"));
    CHECK_FALSE(has(page, "docs/"));
}

TEST_CASE("troff text is escaped", "[cli][man]") {
    using devflow::cli::troff;
    CHECK(troff("--issuer") == "\\-\\-issuer");
    CHECK(troff("a\\b") == "a\\eb");
    CHECK(troff(".TH x") == "\\&.TH x");
    CHECK(troff("'quoted") == "\\&'quoted");
}
