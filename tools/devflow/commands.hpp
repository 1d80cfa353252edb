// devflow CLI — the tables every part of the command line is made from: the
// commands, the options and the exit codes. The parser (arguments.hpp), the
// help texts (help.hpp), the man page and the shell completions are all
// generated from them, so a command or an option exists in all of them or in
// none. Pure data; tested in tests/cli/arguments_test.cpp and help_test.cpp.
#pragma once

#include "failure.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::cli {

/// What the user asked the tool to do.
enum class command {
    none, login, token, status, logout, keep_alive, kubectl_credential, git_credential, setup_git,
    profiles, use, completion, help, version, man
};

/// What kind of value an option or an argument takes: the help shows its
/// metavariable, the shell completions offer matching words.
enum class value_kind {
    none,      ///< a flag
    text,      ///< any word
    url,       ///< an http(s) URL
    file,      ///< a file name
    path,      ///< a file or a directory
    variable,  ///< the name of an environment variable
    command,   ///< one of devflow's commands
    profile,   ///< the name of a profile
};

/// Everything the command line said; unset options fall back to the
/// environment and the remembered settings (settings.hpp).
struct options {
    command cmd = command::none;
    std::optional<std::string> issuer;             ///< --issuer URL
    std::optional<std::string> client_id;          ///< --client-id ID
    std::optional<std::vector<std::string>> scopes;  ///< --scope S (repeatable, or space-separated)
    std::optional<std::string> client_secret_env;  ///< --client-secret-env VAR
    std::optional<std::string> cache;              ///< --cache PATH
    std::optional<std::string> store;              ///< --store file|keyring|auto
    std::optional<std::string> profile;            ///< --profile NAME
    std::optional<std::string> ca_file;            ///< --ca-file PATH
    std::optional<std::string> proxy;              ///< --proxy URL
    std::optional<std::string> host;               ///< --host HOST (git)
    std::optional<std::string> username;           ///< --username NAME (git)
    bool no_browser = false;                       ///< --no-browser
    bool json = false;                             ///< --json
    bool force = false;                            ///< --force (login)
    bool verbose = false;                          ///< --verbose, -v
    bool quiet = false;                            ///< --quiet, -q
    bool id_token = false;                         ///< --id-token (token)
    bool man = false;                              ///< --man (hidden): the man page
    bool help = false;                             ///< --help, -h
    bool version = false;                          ///< --version, -V
    /// `devflow help COMMAND`, `devflow COMMAND --help`: the command to
    /// describe (command::none: the whole tool).
    command help_topic = command::none;
    /// The command's own words after its name (`help COMMAND`).
    std::vector<std::string> arguments;
};

/// One command: its name, and everything its help says.
struct command_info {
    command id = command::none;
    std::string_view name;
    std::string_view summary;      ///< one line, lower case, no full stop
    std::string_view usage;        ///< what follows "devflow NAME" in the synopsis
    std::string_view description;  ///< paragraphs separated by a blank line
    std::string_view example;      ///< shell lines
    std::vector<exit_code> exit_codes;
    /// The command's own argument (`help [COMMAND]`): its metavariable, or
    /// empty when it takes none.
    std::string_view argument;
    value_kind argument_kind = value_kind::none;
    bool argument_required = false;
    std::vector<std::string_view> argument_choices;  ///< empty: any word
    bool hidden = false;  ///< left out of the help, the man page and the completions
};

/// One option: its spellings, what it takes, what the help says, and where
/// the parser puts its value.
struct option_info {
    std::string_view name;     ///< "--issuer"
    std::string_view alias;    ///< "-v", "--scopes", or empty
    std::string_view metavar;  ///< "URL"; empty for a flag
    value_kind kind = value_kind::none;
    std::string_view help;     ///< a phrase, lower case
    std::string_view env;      ///< the environment variable standing in for it, if any
    std::vector<command> commands;  ///< the commands that take it; empty: every command
    bool options::*flag = nullptr;  ///< a flag's target
    std::optional<std::string> options::*value = nullptr;  ///< a value's target
    bool scope_list = false;   ///< --scope: repeatable, space-separated, may be empty
    bool hidden = false;
};

/// The commands that work with a session (they all take the session options).
inline const std::vector<command>& session_commands() {
    static const std::vector<command> c{command::login,  command::token,
                                        command::status, command::logout,
                                        command::keep_alive, command::kubectl_credential,
                                        command::git_credential, command::setup_git};
    return c;
}

/// The commands that take --json.
inline const std::vector<command>& json_commands() {
    static const std::vector<command> c{command::login, command::token, command::status,
                                        command::logout, command::profiles};
    return c;
}

/// Every command, in the order the help lists them.
inline const std::vector<command_info>& command_table() {
    using e = exit_code;
    static const std::vector<command_info> table{
        {command::login, "login", "sign in with the device flow, or reuse a valid session",
         "[--issuer URL] [--client-id ID] [--scope S]... [--client-secret-env VAR] [--force] "
         "[OPTIONS]",
         "Makes sure a session exists: reuses a valid cached one, refreshes an expired access "
         "token, or runs the device flow, showing the code and the page to open on stderr "
         "(opening a browser when a desktop session is there and --no-browser is not given).\n\n"
         "login remembers the issuer, the client, the scopes and the name of the secret's "
         "variable beside the cache, so later commands need no options. --force signs the "
         "current session out first (revoked at the server, as logout does).",
         "devflow login --issuer https://sso.example.org/realms/lab --client-id my-cli",
         {e::ok, e::usage, e::denied, e::expired, e::network, e::server, e::storage, e::cancelled},
         {}, value_kind::none, false, {}, false},
        {command::token, "token", "print a valid access token (refreshed when needed)",
         "[OPTIONS]",
         "Prints a valid access token and a newline on stdout, refreshing it first when it is "
         "within a minute of expiry. With a fresh cached token it sends no request at all. It "
         "never prompts: with no usable session it fails with exit code 7.",
         "curl -H \"Authorization: Bearer $(devflow token)\" https://api.example.org/items",
         {e::ok, e::usage, e::network, e::server, e::reauth, e::storage, e::cancelled},
         {}, value_kind::none, false, {}, false},
        {command::status, "status", "who is signed in, which scopes, when the tokens expire",
         "[OPTIONS]",
         "Shows who is signed in (from the id_token's claims, decoded for display only), to "
         "which issuer, with which scopes, and when the access token and the session expire. "
         "Every token is shown as [redacted]. Sends no request. Exits 0 when the session can "
         "still produce a token without the user, else 7.",
         "devflow status --json", {e::ok, e::usage, e::reauth, e::storage}, {}, value_kind::none,
         false, {}, false},
        {command::logout, "logout", "revoke the tokens at the server and wipe them here",
         "[OPTIONS]",
         "Revokes the refresh and access tokens at the server (RFC 7009) when it has a "
         "revocation endpoint, then wipes them from the cache. Exits 0 when the local tokens are "
         "gone, whether or not the server confirmed the revocation (the line says which).",
         "devflow logout", {e::ok, e::usage, e::storage}, {}, value_kind::none, false, {}, false},
        {command::keep_alive, "keep-alive", "keep the session alive until stopped (foreground)",
         "[OPTIONS]",
         "Runs in the foreground and refreshes the session on the keep-alive schedule (a margin "
         "before the server's idle limit), so it lasts up to the server's session maximum with "
         "nobody at the keyboard. It shares the store lock with every other devflow process, "
         "holds a keep-alive lock of its own so only one runs per session (`devflow status` "
         "shows it), and never prompts. SIGTERM or Ctrl-C ends it with exit code 0; the session "
         "ending (its maximum, or a logout) ends it with 7. Made to run as a systemd user "
         "service.",
         "devflow keep-alive --profile lab &", {e::ok, e::usage, e::reauth, e::storage}, {},
         value_kind::none, false, {}, false},
        {command::kubectl_credential, "kubectl-credential",
         "print an ExecCredential for kubectl (exec plugin)", "[OPTIONS]",
         "The kubectl exec credential plugin: prints an ExecCredential "
         "(client.authentication.k8s.io/v1, or v1beta1 when KUBERNETES_EXEC_INFO asks for it) "
         "holding a valid access token and its expiry on stdout, refreshing the token first "
         "when needed. When there is no session and kubectl says a person is there "
         "(interactiveMode IfAvailable or Always, with a terminal), it signs in with the device "
         "flow, prompting on stderr; otherwise it fails with exit code 7. Name it in the "
         "kubeconfig's users[].user.exec section.",
         "kubectl config set-credentials lab --exec-api-version=client.authentication.k8s.io/v1 \\\n"
         "    --exec-command=devflow --exec-arg=kubectl-credential --exec-arg=--profile --exec-arg=lab \\\n"
         "    --exec-interactive-mode=IfAvailable",
         {e::ok, e::usage, e::denied, e::expired, e::network, e::server, e::reauth, e::storage,
          e::cancelled},
         {}, value_kind::none, false, {}, false},
        {command::git_credential, "git-credential", "git's credential helper (get, store, erase)",
         "OPERATION --host HOST [--username NAME] [OPTIONS]",
         "git's credential helper protocol: `get` reads what git asks on stdin and answers with "
         "the username and a valid access token as the password (refreshed when needed; never a "
         "prompt: with no session it fails with exit code 7); `store` is ignored (the token "
         "lives in devflow's cache); `erase`, which git sends when the server refused the "
         "password, refreshes the session at once when that password is the cached access "
         "token (the refresh token stays, so no new sign-in is needed). Tokens go only to "
         "--host, and only over https. `devflow setup-git` writes the git config that runs it.",
         "printf 'protocol=https\\nhost=git.example.org\\n\\n' | devflow git-credential get --host git.example.org",
         {e::ok, e::usage, e::network, e::server, e::reauth, e::storage, e::cancelled}, "OPERATION",
         value_kind::text, true, {"get", "store", "erase"}, false},
        {command::setup_git, "setup-git", "make git use devflow for a host's credentials",
         "--host HOST [--username NAME] [OPTIONS]",
         "Writes the global git config entry that makes git ask `devflow git-credential` for the "
         "credentials of https://HOST, as `gh auth setup-git` does: "
         "credential.https://HOST.helper is reset (so no other helper answers for that host) "
         "and set to this devflow with the profile, cache and other options given here.",
         "devflow setup-git --profile lab --host git.example.org",
         {e::ok, e::usage, e::storage}, {}, value_kind::none, false, {}, false},
        {command::profiles, "profiles", "list the profiles: issuer, client, signed in, expiry",
         "[--json]",
         "Lists the named profiles of the config file ($XDG_CONFIG_HOME/devflow/config.json), "
         "and `default` (the settings login remembers without a profile) when it has any: each "
         "one's issuer and client, whether it is signed in and when its token and session "
         "expire, read from its cache without any request. A `*` marks the profile commands "
         "use without --profile.",
         "devflow profiles --json", {e::ok, e::usage, e::storage}, {}, value_kind::none, false, {},
         false},
        {command::use, "use", "make a profile the default", "NAME",
         "Makes NAME the profile commands use without --profile (and without DEVFLOW_PROFILE), "
         "by writing it into the config file. `devflow use default` goes back to the settings "
         "login remembers without a profile.",
         "devflow use lab", {e::ok, e::usage, e::storage}, "NAME", value_kind::profile, true, {},
         false},
        {command::completion, "completion", "print a shell completion script", "SHELL",
         "Prints the completion script for bash, zsh or fish on stdout: commands, options, "
         "files for --cache and --ca-file, profile names for --profile and `use`. Load it from "
         "the shell's start-up file, or save it where the shell looks for completions.",
         "source <(devflow completion bash)      # in ~/.bashrc\n"
         "devflow completion zsh > ~/.zfunc/_devflow    # a directory of $fpath\n"
         "devflow completion fish > ~/.config/fish/completions/devflow.fish",
         {e::ok, e::usage}, "SHELL", value_kind::text, true, {"bash", "zsh", "fish"}, false},
        {command::help, "help", "describe devflow, or one command", "[COMMAND]",
         "Without a command, describes devflow: its commands, options and exit codes. With "
         "one, describes that command: what it does, its options, an example and its exit "
         "codes. `devflow COMMAND --help` says the same.",
         "devflow help login", {e::ok, e::usage}, "COMMAND", value_kind::command, false, {},
         false},
        {command::version, "version", "print devflow's version", "",
         "Prints devflow's version and the version of its HTTP library.", "devflow --version",
         {e::ok}, {}, value_kind::none, false, {}, false},
        {command::man, "man", "print the man page (troff)", "",
         "Prints the man page, as the build installs it.", "devflow --man > devflow.1", {e::ok},
         {}, value_kind::none, false, {}, true},
    };
    return table;
}

/// Every option, in the order the help lists them.
inline const std::vector<option_info>& option_table() {
    static const std::vector<option_info> table{
        {"--issuer", {}, "URL", value_kind::url,
         "the authorization server (its OpenID Connect issuer); https, or http on a loopback "
         "host",
         "DEVFLOW_ISSUER", session_commands(), nullptr, &options::issuer, false, false},
        {"--client-id", {}, "ID", value_kind::text, "the OAuth client", "DEVFLOW_CLIENT_ID",
         session_commands(), nullptr, &options::client_id, false, false},
        {"--scope", "--scopes", "S", value_kind::text,
         "a scope to request (repeat it, or give several space-separated; --scope= asks for "
         "none); default: openid when the server offers it",
         "DEVFLOW_SCOPES", session_commands(), nullptr, nullptr, true, false},
        {"--client-secret-env", {}, "VAR", value_kind::variable,
         "read a confidential client's secret from the environment variable VAR (never from "
         "the command line, never stored)",
         {}, session_commands(), nullptr, &options::client_secret_env, false, false},
        {"--cache", {}, "PATH", value_kind::path,
         "where tokens live: a directory (a path ending in / or an existing directory) or a "
         "single file; default $XDG_STATE_HOME/devflow",
         "DEVFLOW_CACHE", session_commands(), nullptr, &options::cache, false, false},
        {"--store", {}, "STORE", value_kind::text,
         "where tokens live: `file` (under the cache), `keyring` (the desktop keyring, through "
         "the Secret Service; fails when none is unlocked) or `auto`, the default: the keyring "
         "when one is reachable and no cache was named, else files (remembered by login)",
         "DEVFLOW_STORE", session_commands(), nullptr, &options::store, false, false},
        {"--profile", {}, "NAME", value_kind::profile,
         "use the named profile of the config file (its issuer, client, scopes and cache); "
         "`default` means none",
         "DEVFLOW_PROFILE", session_commands(), nullptr, &options::profile, false, false},
        {"--ca-file", {}, "PATH", value_kind::file,
         "trust the CA certificates of this PEM file instead of the system's, for the server "
         "and the proxy (remembered by login)",
         "DEVFLOW_CA_FILE", session_commands(), nullptr, &options::ca_file, false, false},
        {"--proxy", {}, "URL", value_kind::url,
         "send https requests through this proxy (http://host:port), instead of the one "
         "https_proxy names; loopback hosts never go through one (remembered by login)",
         {}, session_commands(), nullptr, &options::proxy, false, false},
        {"--no-browser", {}, {}, value_kind::none, "never open a browser; just print the link", {},
         session_commands(), &options::no_browser, nullptr, false, false},
        {"--json", {}, {}, value_kind::none, "machine-readable output on stdout, one object a line",
         {}, json_commands(), &options::json, nullptr, false, false},
        {"--force", {}, {}, value_kind::none,
         "sign out (revoking at the server) and sign in again even with a valid session", {},
         {command::login}, &options::force, nullptr, false, false},
        {"--host", {}, "HOST", value_kind::text,
         "the git host (host or host:port) the helper gives tokens to", {},
         {command::git_credential, command::setup_git}, nullptr, &options::host, false, false},
        {"--username", {}, "NAME", value_kind::text,
         "the username git sends with the token (default: the remote URL's, else oauth2)", {},
         {command::git_credential, command::setup_git}, nullptr, &options::username, false, false},
        {"--id-token", {}, {}, value_kind::none,
         "print the session's OpenID Connect id_token instead of the access token", {},
         {command::token}, &options::id_token, nullptr, false, false},
        {"--quiet", "-q", {}, value_kind::none,
         "no lines on success (the sign-in prompt, warnings and failures still show)", {}, {},
         &options::quiet, nullptr, false, false},
        {"--verbose", "-v", {}, value_kind::none, "more diagnostics on stderr", {}, {},
         &options::verbose, nullptr, false, false},
        {"--help", "-h", {}, value_kind::none, "describe devflow, or the command given", {}, {},
         &options::help, nullptr, false, false},
        {"--version", "-V", {}, value_kind::none, "print the version", {}, {}, &options::version,
         nullptr, false, false},
        {"--man", {}, {}, value_kind::none, "print the man page (troff); the build runs it", {}, {},
         &options::man, nullptr, false, true},
    };
    return table;
}

/// One exit code and what it means.
struct exit_code_info {
    exit_code code;
    std::string_view meaning;
};

/// Every exit code, as the help, the man page and docs/cli.md list them.
inline const std::vector<exit_code_info>& exit_code_table() {
    using e = exit_code;
    static const std::vector<exit_code_info> table{
        {e::ok, "success"},
        {e::internal, "unexpected internal error (a bug; please report it)"},
        {e::usage, "usage or configuration: bad option, no issuer or client, insecure or "
                   "mismatched issuer, server without the device flow, client or scope refused"},
        {e::denied, "the sign-in was denied"},
        {e::expired, "the code expired before the sign-in was approved"},
        {e::network, "network or transport failure (DNS, connection, TLS, timeout)"},
        {e::server, "the server answered an error or something unusable"},
        {e::reauth, "not signed in, or the session has ended: run devflow login"},
        {e::storage, "the token cache or a settings file cannot be read, written or trusted"},
        {e::cancelled, "cancelled (Ctrl-C, SIGTERM)"},
    };
    return table;
}

/// The command called `word` (hidden ones included), or nullptr.
inline const command_info* find_command(std::string_view word) {
    for (const auto& c : command_table())
        if (c.name == word) return &c;
    return nullptr;
}

/// The table row of `c` (every command has one, except command::none).
inline const command_info* info_of(command c) {
    for (const auto& i : command_table())
        if (i.id == c) return &i;
    return nullptr;
}

/// The option spelled `word` ("--issuer", "-v", "--scopes"), or nullptr.
inline const option_info* find_option(std::string_view word) {
    for (const auto& o : option_table())
        if (o.name == word || (!o.alias.empty() && o.alias == word)) return &o;
    return nullptr;
}

/// True when command `c` takes option `o`.
inline bool takes(command c, const option_info& o) {
    if (o.commands.empty()) return true;
    for (command x : o.commands)
        if (x == c) return true;
    return false;
}

/// "a", "a and b", "a, b and c".
inline std::string and_list(const std::vector<std::string>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
        out += words[i];
    }
    return out;
}

/// "a", "a or b", "a, b or c".
inline std::string or_list(const std::vector<std::string>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
        out += words[i];
    }
    return out;
}

/// The names of the commands an error message suggests: every listed
/// command but help and version.
inline std::string command_names_for_errors() {
    std::string out;
    for (const auto& c : command_table()) {
        if (c.hidden || c.id == command::help || c.id == command::version) continue;
        if (!out.empty()) out += ", ";
        out += c.name;
    }
    return out;
}

}  // namespace devflow::cli
