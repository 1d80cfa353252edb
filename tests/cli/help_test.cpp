// The help texts are made from the tables: every command and option in the
// tool's help, each command's own options, example and exit codes in its.
#include "catch.hpp"

#include "help.hpp"

using devflow::cli::command;

namespace {
bool has(const std::string& text, std::string_view word) {
    return text.find(word) != std::string::npos;
}
}  // namespace

TEST_CASE("the tool's help lists every command, every option and every exit code",
          "[cli][help]") {
    const std::string text = devflow::cli::usage_text();
    CHECK(text.rfind("devflow - ", 0) == 0);
    for (const auto& c : devflow::cli::command_table())
        if (!c.hidden) CHECK(has(text, "  " + std::string(c.name) + " "));
    for (const auto& o : devflow::cli::option_table()) {
        if (o.hidden) continue;
        CHECK(has(text, o.name));
        if (!o.env.empty()) CHECK(has(text, o.env));
    }
    for (const auto& e : devflow::cli::exit_code_table())
        CHECK(has(text, "\n  " + std::to_string(static_cast<int>(e.code)) + " "));
    // An installed copy has no docs/ directory to point at.
    CHECK_FALSE(has(text, "docs/"));
    CHECK(has(text, "devflow help COMMAND"));
}

TEST_CASE("each command's help has its usage, its own options, an example and its exit codes",
          "[cli][help]") {
    for (const auto& c : devflow::cli::command_table()) {
        if (c.hidden) continue;
        const std::string text = devflow::cli::command_help(c.id);
        INFO(c.name);
        CHECK(text.rfind("devflow " + std::string(c.name) + " - " + std::string(c.summary), 0) == 0);
        CHECK(has(text, "Usage:\n  devflow " + std::string(c.name)));
        CHECK(has(text, "Example:\n  "));
        CHECK(has(text, "Exit codes:\n  0 "));
        for (auto code : c.exit_codes)
            CHECK(has(text, "\n  " + std::to_string(static_cast<int>(code)) + " "));
        for (const auto& o : devflow::cli::option_table()) {
            if (o.hidden) continue;
            const bool shown = has(text, "  " + devflow::cli::option_spelling(o));
            CHECK(shown == devflow::cli::takes(c.id, o));
        }
        CHECK_FALSE(has(text, "docs/"));
    }
}

TEST_CASE("login's help is not token's", "[cli][help]") {
    const std::string login = devflow::cli::command_help(command::login);
    const std::string token = devflow::cli::command_help(command::token);
    CHECK(login != token);
    CHECK(has(login, "--force"));
    CHECK_FALSE(has(token, "--force"));
    CHECK(has(login, "\n  3    the sign-in was denied"));
    CHECK_FALSE(has(token, "\n  3    "));
}

TEST_CASE("help lines fit in 80 columns", "[cli][help]") {
    std::vector<std::string> texts{devflow::cli::usage_text()};
    for (const auto& c : devflow::cli::command_table()) texts.push_back(devflow::cli::command_help(c.id));
    for (const auto& text : texts) {
        std::size_t start = 0;
        bool example = false;
        while (start < text.size()) {
            auto end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            const std::string line = text.substr(start, end - start);
            // Examples are shell lines, shown as they are.
            if (line == "Example:") example = true;
            if (line.empty()) example = false;
            if (!example) {
                INFO(line);
                CHECK(line.size() <= 80);
            }
            start = end + 1;
        }
    }
}

TEST_CASE("wrap keeps words whole and paragraphs apart", "[cli][help]") {
    using devflow::cli::wrap;
    CHECK(wrap("aa bb cc", 5) == std::vector<std::string>{"aa bb", "cc"});
    CHECK(wrap("a\n\nb", 10) == std::vector<std::string>{"a", "", "b"});
    CHECK(wrap("toolongword x", 4) == std::vector<std::string>{"toolongword", "x"});
}
