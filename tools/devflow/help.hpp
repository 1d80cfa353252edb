// devflow CLI — the help texts, generated from the tables in commands.hpp:
// `devflow --help` (the whole tool) and `devflow help COMMAND` /
// `devflow COMMAND --help` (one command). Pure; tested in
// tests/cli/help_test.cpp.
#pragma once

#include "commands.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// `text` cut into lines of at most `width` columns at spaces (a longer
/// word gets a line of its own); paragraphs are separated by "\n\n" and
/// come back separated by an empty line.
inline std::vector<std::string> wrap(std::string_view text, std::size_t width) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find("\n\n", start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view paragraph = text.substr(start, end - start);
        if (!lines.empty()) lines.emplace_back();
        std::string line;
        std::size_t i = 0;
        while (i < paragraph.size()) {
            while (i < paragraph.size() && (paragraph[i] == ' ' || paragraph[i] == '\n')) ++i;
            std::size_t j = i;
            while (j < paragraph.size() && paragraph[j] != ' ' && paragraph[j] != '\n') ++j;
            if (j == i) break;
            const std::string_view word = paragraph.substr(i, j - i);
            if (!line.empty() && line.size() + 1 + word.size() > width) {
                lines.push_back(line);
                line.clear();
            }
            if (!line.empty()) line += ' ';
            line += word;
            i = j;
        }
        if (!line.empty()) lines.push_back(line);
        if (end == text.size()) break;
        start = end + 2;
    }
    return lines;
}

/// How an option is spelled in a synopsis: "-v, --verbose", "--issuer URL".
inline std::string option_spelling(const option_info& o) {
    std::string s;
    if (!o.alias.empty() && o.alias.size() == 2) s = std::string(o.alias) + ", ";
    s += o.name;
    if (!o.metavar.empty()) s += " " + std::string(o.metavar);
    return s;
}

/// What the help says about an option: its phrase, the variable standing
/// in for it, and (in the whole tool's help) which commands take it.
inline std::string option_text(const option_info& o, bool name_commands) {
    std::string text(o.help);
    if (!o.alias.empty() && o.alias.size() > 2) text += "; also " + std::string(o.alias);
    if (!o.env.empty()) text += "; env " + std::string(o.env);
    if (name_commands && !o.commands.empty() && o.commands != session_commands()) {
        std::vector<std::string> names;
        for (command c : o.commands) names.emplace_back(info_of(c)->name);
        text += " (" + and_list(names) + ")";
    }
    return text;
}

/// One option's lines in a help text: the spelling in a 26-column gutter,
/// the text wrapped beside it.
inline std::string option_lines(const option_info& o, bool name_commands) {
    constexpr std::size_t gutter = 28;
    constexpr std::size_t width = 80;
    std::string out = "  " + option_spelling(o);
    const auto lines = wrap(option_text(o, name_commands), width - gutter);
    if (out.size() + 2 > gutter) {
        out += "\n";
        out += std::string(gutter, ' ');
    } else {
        out += std::string(gutter - out.size(), ' ');
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += std::string(gutter, ' ');
        out += lines[i] + "\n";
    }
    return out;
}

/// Indented, wrapped paragraphs.
inline std::string paragraphs(std::string_view text, std::size_t indent = 2) {
    std::string out;
    for (const auto& line : wrap(text, 80 - indent))
        out += line.empty() ? "\n" : std::string(indent, ' ') + line + "\n";
    return out;
}

/// The exit code lines of a help text ("  7    not signed in, ...").
inline std::string exit_code_lines(const std::vector<exit_code>& codes) {
    std::string out;
    for (const auto& info : exit_code_table()) {
        bool listed = codes.empty();
        for (exit_code c : codes) listed = listed || c == info.code;
        if (!listed) continue;
        std::string number = std::to_string(static_cast<int>(info.code));
        number.resize(5, ' ');
        const auto lines = wrap(info.meaning, 80 - 7);
        for (std::size_t i = 0; i < lines.size(); ++i)
            out += (i == 0 ? "  " + number : std::string(7, ' ')) + lines[i] + "\n";
    }
    return out;
}

/// A synopsis, "  devflow NAME USAGE", wrapped at 80 columns under its
/// first word; a bracketed group is never split.
inline std::string synopsis(const command_info& c) {
    const std::string head = "  devflow " + std::string(c.name);
    std::vector<std::string> groups;
    int depth = 0;
    std::string group;
    for (char ch : c.usage) {
        if (ch == ' ' && depth == 0) {
            if (!group.empty()) groups.push_back(group);
            group.clear();
            continue;
        }
        if (ch == '[') ++depth;
        if (ch == ']') --depth;
        group += ch;
    }
    if (!group.empty()) groups.push_back(group);
    std::string out = head;
    std::size_t column = head.size();
    for (const auto& g : groups) {
        if (column + 1 + g.size() > 80) {
            out += "\n" + std::string(head.size(), ' ');
            column = head.size();
        }
        out += " " + g;
        column += 1 + g.size();
    }
    return out + "\n";
}

/// The text of `devflow --help` and `devflow help`.
inline std::string usage_text() {
    std::string out =
        "devflow - sign in with the OAuth 2.0 device flow and hand tokens to scripts\n\n"
        "Usage:\n  devflow COMMAND [OPTIONS]\n\nCommands:\n";
    for (const auto& c : command_table()) {
        if (c.hidden) continue;
        std::string name(c.name);
        name.resize(20, ' ');
        out += "  " + name + std::string(c.summary) + "\n";
    }
    out += "\nExample:\n"
           "  devflow login --issuer https://sso.example.org/realms/lab --client-id my-cli\n"
           "  curl -H \"Authorization: Bearer $(devflow token)\" https://api.example.org/\n"
           "\nOptions (before or after the command, as --name value or --name=value):\n";
    for (const auto& o : option_table())
        if (!o.hidden) out += option_lines(o, true);
    out += "\n";
    out += paragraphs(
        "login remembers the issuer, client and scopes (in the profile given with --profile, "
        "else beside the cache), so later commands need no options. Precedence: the command "
        "line, then the environment, then the profile or what login remembered.",
        0);
    out += "\nExit codes:\n" + exit_code_lines({});
    out += "\n`devflow help COMMAND` (or `devflow COMMAND --help`) describes one command.\n";
    return out;
}

/// The text of `devflow help COMMAND` and `devflow COMMAND --help`.
inline std::string command_help(command id) {
    const command_info* c = info_of(id);
    if (c == nullptr) return usage_text();
    std::string out = "devflow " + std::string(c->name) + " - " + std::string(c->summary) + "\n\n";
    out += "Usage:\n" + synopsis(*c);
    out += "\n" + paragraphs(c->description);
    std::string own;
    for (const auto& o : option_table())
        if (!o.hidden && !o.commands.empty() && takes(id, o)) own += option_lines(o, false);
    std::string general;
    for (const auto& o : option_table())
        if (!o.hidden && o.commands.empty()) general += option_lines(o, false);
    if (!own.empty()) out += "\nOptions:\n" + own;
    out += "\nGeneral options:\n" + general;
    if (!c->example.empty()) {
        out += "\nExample:\n";
        std::string_view lines = c->example;
        while (!lines.empty()) {
            const auto nl = lines.find('\n');
            out += "  " + std::string(lines.substr(0, nl)) + "\n";
            lines = nl == std::string_view::npos ? std::string_view{} : lines.substr(nl + 1);
        }
    }
    out += "\nExit codes:\n" + exit_code_lines(c->exit_codes);
    return out;
}

}  // namespace devflow::cli
