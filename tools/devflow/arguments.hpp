// devflow CLI — the command line, parsed into options (pure; tested in
// tests/cli/arguments_test.cpp). docs/cli.md is the user's reference.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// What the user asked the tool to do.
enum class command { none, login, token, status, logout, help, version };

/// Everything the command line said; unset options fall back to the
/// environment and the remembered settings (settings.hpp).
struct options {
    command cmd = command::none;
    std::optional<std::string> issuer;             ///< --issuer URL
    std::optional<std::string> client_id;          ///< --client-id ID
    std::optional<std::vector<std::string>> scopes;  ///< --scope S (repeatable, or space-separated)
    std::optional<std::string> client_secret_env;  ///< --client-secret-env VAR
    std::optional<std::string> cache;              ///< --cache PATH
    bool no_browser = false;                       ///< --no-browser
    bool json = false;                             ///< --json
    bool force = false;                            ///< --force (login)
    bool verbose = false;                          ///< --verbose, -v
};

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
    if (word == "login") return command::login;
    if (word == "token") return command::token;
    if (word == "status") return command::status;
    if (word == "logout") return command::logout;
    if (word == "help") return command::help;
    if (word == "version") return command::version;
    return command::none;
}

/// Parses the arguments after the program name. Options may come before or
/// after the command, as `--name value` or `--name=value`.
inline parse_result parse_arguments(const std::vector<std::string_view>& args) {
    parse_result r;
    options& o = r.opts;
    bool help = false;
    bool version = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.size() < 2 || arg[0] != '-') {
            const command c = command_named(arg);
            if (c == command::none) {
                r.error = "unknown command \"" + std::string(arg) +
                          "\" (commands: login, token, status, logout)";
                return r;
            }
            if (o.cmd != command::none) {
                r.error = "more than one command given (\"" + std::string(arg) + "\")";
                return r;
            }
            o.cmd = c;
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
        auto flag = [&](bool& target) {
            if (inline_value) {
                r.error = "option " + std::string(name) + " takes no value";
                return false;
            }
            target = true;
            return true;
        };
        auto value = [&](std::optional<std::string>& target) {
            if (inline_value) {
                target = std::string(*inline_value);
            } else if (i + 1 < args.size()) {
                target = std::string(args[++i]);
            } else {
                r.error = "option " + std::string(name) + " needs a value";
                return false;
            }
            if (target->empty()) {
                r.error = "option " + std::string(name) + " needs a non-empty value";
                return false;
            }
            return true;
        };
        bool good = true;
        if (name == "--issuer") {
            good = value(o.issuer);
        } else if (name == "--client-id") {
            good = value(o.client_id);
        } else if (name == "--scope" || name == "--scopes") {
            std::optional<std::string> text;
            if (inline_value) {
                text = std::string(*inline_value);  // --scope= asks for no scope at all
            } else if (i + 1 < args.size()) {
                text = std::string(args[++i]);
            } else {
                r.error = "option " + std::string(name) + " needs a value";
                return r;
            }
            if (!o.scopes) o.scopes.emplace();
            for (auto& w : split_words(*text)) o.scopes->push_back(std::move(w));
        } else if (name == "--client-secret-env") {
            good = value(o.client_secret_env);
        } else if (name == "--cache") {
            good = value(o.cache);
        } else if (name == "--no-browser") {
            good = flag(o.no_browser);
        } else if (name == "--json") {
            good = flag(o.json);
        } else if (name == "--force") {
            good = flag(o.force);
        } else if (name == "--verbose" || name == "-v") {
            good = flag(o.verbose);
        } else if (name == "--help" || name == "-h") {
            good = flag(help);
        } else if (name == "--version" || name == "-V") {
            good = flag(version);
        } else {
            r.error = "unknown option " + std::string(name);
            return r;
        }
        if (!good) return r;
    }
    if (help) {
        o.cmd = command::help;
    } else if (version) {
        o.cmd = command::version;
    } else if (o.force && o.cmd != command::login) {
        r.error = "--force goes with login only";
    }
    return r;
}

/// The text of `devflow --help`.
inline std::string usage_text() {
    return R"usage(devflow - sign in with the OAuth 2.0 device flow and hand tokens to scripts

Usage:
  devflow login  --issuer URL --client-id ID [--scope S]... [--client-secret-env VAR] [--force]
  devflow token                 print a valid access token (refreshed when needed)
  devflow status                who is signed in, which scopes, when tokens expire
  devflow logout                revoke the tokens at the server and wipe them here

  curl -H "Authorization: Bearer $(devflow token)" https://api.example.org/

Options (any command):
  --issuer URL              the authorization server (OpenID Connect issuer);
                            env DEVFLOW_ISSUER
  --client-id ID            the OAuth client; env DEVFLOW_CLIENT_ID
  --scope S                 a scope to request (repeat, or "a b c"); env
                            DEVFLOW_SCOPES; default: openid when offered
  --client-secret-env VAR   read a confidential client's secret from $VAR
  --cache PATH              token cache: a directory, or a single file (default
                            $XDG_STATE_HOME/devflow); env DEVFLOW_CACHE
  --no-browser              never open a browser; just print the link
  --json                    machine-readable output on stdout
  --force                   login: sign in again even with a valid session
  -v, --verbose             more diagnostics on stderr
  -h, --help                this text
  -V, --version             the version

login remembers the issuer, client and scopes beside the cache, so later
commands need no options.

Exit codes:
  0 ok                          5 network or transport failure
  2 usage or configuration      6 server or protocol error
  3 sign-in denied              7 not signed in / sign in again
  4 code expired                8 token cache unusable
  1 unexpected internal error   130 cancelled (Ctrl-C)

More: docs/cli.md
)usage";
}

}  // namespace devflow::cli
