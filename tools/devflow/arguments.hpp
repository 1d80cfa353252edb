// devflow CLI — the command line, parsed into options (pure; tested in
// tests/cli/arguments_test.cpp). The commands and options themselves are the
// tables in commands.hpp; docs/cli.md is the user's reference.
#pragma once

#include "commands.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// The parsed command line, or the usage problem (one line, no prefix).
struct parse_result {
    options opts;
    std::string error;  ///< empty when the command line is good

    /// True when the command line is good.
    [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Splits "a b  c" into its words.
inline std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
        if (j > i) out.emplace_back(text.substr(i, j - i));
        i = j;
    }
    return out;
}

/// The command called `word`, or command::none.
inline command command_named(std::string_view word) {
    const command_info* c = find_command(word);
    return c != nullptr ? c->id : command::none;
}

/// "unknown command "X" (commands: ...)".
inline std::string unknown_command(std::string_view word) {
    return "unknown command \"" + std::string(word) + "\" (commands: " + command_names_for_errors() +
           ")";
}

/// Parses the arguments after the program name, as the tables in
/// commands.hpp say. Options may come before or after the command, as
/// `--name value` or `--name=value`; a command's own argument follows it.
inline parse_result parse_arguments(const std::vector<std::string_view>& args) {
    parse_result r;
    options& o = r.opts;
    std::vector<const option_info*> given;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.size() < 2 || arg[0] != '-') {
            if (o.cmd == command::none) {
                const command c = command_named(arg);
                if (c == command::none) {
                    r.error = unknown_command(arg);
                    return r;
                }
                o.cmd = c;
                continue;
            }
            const command_info& current = *info_of(o.cmd);
            if (current.argument.empty() || !o.arguments.empty()) {
                if (command_named(arg) != command::none) {
                    r.error = "more than one command given (\"" + std::string(arg) + "\")";
                } else if (current.argument.empty()) {
                    r.error = unknown_command(arg);
                } else {
                    r.error = std::string(current.name) + " takes one " +
                              std::string(current.argument) + " (\"" + std::string(arg) +
                              "\" is one too many)";
                }
                return r;
            }
            if (current.argument_kind == value_kind::command && command_named(arg) == command::none) {
                r.error = unknown_command(arg);
                return r;
            }
            if (!current.argument_choices.empty()) {
                bool known = false;
                std::vector<std::string> choices;
                for (auto choice : current.argument_choices) {
                    known = known || choice == arg;
                    choices.emplace_back(choice);
                }
                if (!known) {
                    r.error = std::string(current.name) + " does not know \"" + std::string(arg) +
                              "\" (" + std::string(current.argument) + ": " + or_list(choices) +
                              ")";
                    return r;
                }
            }
            o.arguments.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            r.error = "unexpected \"--\"";
            return r;
        }
        std::string_view name = arg;
        std::optional<std::string_view> inline_value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos && arg.substr(0, 2) == "--") {
            name = arg.substr(0, eq);
            inline_value = arg.substr(eq + 1);
        }
        const option_info* opt = find_option(name);
        if (opt == nullptr) {
            r.error = "unknown option " + std::string(name);
            return r;
        }
        given.push_back(opt);
        if (opt->flag != nullptr) {
            if (inline_value) {
                r.error = "option " + std::string(name) + " takes no value";
                return r;
            }
            o.*(opt->flag) = true;
            continue;
        }
        std::string text;
        if (inline_value) {
            text = std::string(*inline_value);
        } else if (i + 1 < args.size()) {
            text = std::string(args[++i]);
        } else {
            r.error = "option " + std::string(name) + " needs a value";
            return r;
        }
        if (opt->scope_list) {
            // --scope= asks for no scope at all.
            if (!o.scopes) o.scopes.emplace();
            for (auto& w : split_words(text)) o.scopes->push_back(std::move(w));
            continue;
        }
        if (text.empty()) {
            r.error = "option " + std::string(name) + " needs a non-empty value";
            return r;
        }
        o.*(opt->value) = std::move(text);
    }
    if (o.help) {
        // `devflow help login` and `devflow login --help` say the same.
        o.help_topic = o.cmd == command::help ? o.help_topic : o.cmd;
        o.cmd = command::help;
    } else if (o.version) {
        o.cmd = command::version;
    } else if (o.man) {
        o.cmd = command::man;
    }
    if (o.cmd == command::help && !o.arguments.empty() && o.help_topic == command::none)
        o.help_topic = command_named(o.arguments.front());
    if (o.cmd == command::help || o.cmd == command::version || o.cmd == command::man ||
        o.cmd == command::none)
        return r;
    if (o.quiet && o.verbose) {
        r.error = "--quiet and --verbose cannot go together";
        return r;
    }
    const command_info& current = *info_of(o.cmd);
    for (const option_info* opt : given) {
        if (takes(o.cmd, *opt)) continue;
        std::vector<std::string> names;
        for (command c : opt->commands) names.emplace_back(info_of(c)->name);
        r.error = std::string(opt->name) + " goes with " + and_list(names) + " only";
        return r;
    }
    if (current.argument_required && o.arguments.empty()) {
        r.error = std::string(current.name) + " needs " + std::string(current.argument);
        if (!current.argument_choices.empty()) {
            std::vector<std::string> choices(current.argument_choices.begin(),
                                             current.argument_choices.end());
            r.error += " (" + or_list(choices) + ")";
        }
    }
    return r;
}

}  // namespace devflow::cli
