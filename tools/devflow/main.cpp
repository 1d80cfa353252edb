// devflow — the command-line tool: sign in with the device flow, then hand a
// valid access token to scripts (docs/cli.md).
//
//     devflow login --issuer https://sso.example.org/realms/lab --client-id my-cli
//     curl -H "Authorization: Bearer $(devflow token)" https://api.example.org/
//
// The decisions live in the headers beside this file, which are pure and
// unit-tested: the command and option tables and the parser (commands,
// arguments), the help, man page and completions (help, manpage,
// completion), settings and profiles, failures and exit codes, what the
// commands print (status, output, terminal), and the kubectl and git
// protocols (kubernetes, git). This file wires them to the library, the
// terminal and the process: one factory (`session`) makes the store, the
// transport and the flow of every command. The transport is loaded on the
// first request (transport.hpp, module.hpp).
#include "arguments.hpp"
#include "completion.hpp"
#include "failure.hpp"
#include "git.hpp"
#include "help.hpp"
#include "kubernetes.hpp"
#include "manpage.hpp"
#include "output.hpp"
#include "profiles.hpp"
#include "settings.hpp"
#include "status.hpp"
#include "store.hpp"
#include "terminal.hpp"
#include "ui.hpp"

#include "transport.hpp"

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/discovery.hpp>
#include <devflow/file_store.hpp>
#include <devflow/system_browser.hpp>
#include <devflow/system_clock.hpp>
#include <devflow/version.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace cli = devflow::cli;
using cli::exit_code;

/// The Browser policy of the tool: the system browser unless --no-browser,
/// never seeing the variable that holds a client secret.
struct cli_browser {
    bool enabled = true;
    std::string secret_variable;  ///< --client-secret-env, withheld from the browser
    bool open(std::string_view url) const {
        if (!enabled) return false;
        devflow::system_browser browser;
        if (!secret_variable.empty()) browser.withhold_environment({secret_variable});
        return browser.open(url);
    }
};

/// The flow of every command. Its Http policy loads libcurl only when a
/// request is sent (transport.hpp).
using flow_type = devflow::device_flow<cli::cli_http, devflow::nlohmann_json, cli::cli_store,
                                       devflow::system_clock, cli_browser>;

std::optional<std::string> environment_variable(std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

void out(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void out_json(const nlohmann::ordered_json& j) { out(cli::json_line(j)); }

/// A name for the running keep-alive, e.g. "pid 1234".
std::string pid_text(long pid) { return "pid " + std::to_string(pid); }

/// Everything a command needs.
struct run_context {
    cli::options opts;
    std::string profile;  ///< the named profile in use; "" for none
    std::filesystem::path config_path;       ///< the config file of the profiles
    std::optional<cli::config_file> config;  ///< its contents, when it exists
    cli::cache_location cache;
    bool cache_named = false;  ///< --cache, DEVFLOW_CACHE or the profile's own cache named it
    cli::store_decision store;  ///< the store in use, once a session has made it
    std::optional<cli::remembered> memory;  ///< the remembered settings before this run
    cli::resolved settings;
    devflow::client_config base;
    std::stop_token stop;
    cli::terminal_ui* ui = nullptr;
};

int report(const cli::failure& f, const cli::options& o, cli::terminal_ui* ui) {
    if (ui != nullptr) {
        ui->finish();
        ui->say(f.line + "\n");
    } else {
        std::fputs((f.line + "\n").c_str(), stderr);
    }
    if (o.json) out_json(cli::error_json(f));
    return static_cast<int>(f.code);
}

/// A settings or config file that may not be trusted: it names the file and why.
struct untrusted_settings {
    std::filesystem::path file;
    std::string reason;
    std::string kind = "settings file";
};

/// A failure found before a command could start (a usage or configuration
/// problem), reported as it is.
struct early_failure {
    cli::failure f;
};

/// A failure's line without the tool's "devflow: " prefix, to quote inside
/// another line.
std::string failure_text(const early_failure& e) {
    constexpr std::string_view prefix = "devflow: ";
    return e.f.line.substr(e.f.line.rfind(prefix, 0) == 0 ? prefix.size() : 0);
}

/// The user's home directory: $HOME when absolute, else the password database's.
std::filesystem::path home_directory() {
    if (auto h = environment_variable("HOME"); h && std::filesystem::path(*h).is_absolute())
        return *h;
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr)
        return pw->pw_dir;
    throw early_failure{{exit_code::storage,
                         "devflow: no home directory is known (HOME is not set); set HOME",
                         std::string{devflow::to_string(devflow::errc::storage_failed)}}};
}

bool is_directory(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_directory(p, ec);
}

/// The config file of the profiles, read like a token record (never through
/// a symbolic link, only a private file of this user) and strictly: a file
/// that cannot be trusted or understood stops every command that reads it.
std::optional<cli::config_file> read_config(const std::filesystem::path& file) {
    constexpr std::size_t max_size = 256 * 1024;
    const devflow::private_file found = devflow::read_private_file(file, max_size);
    if (found.result == devflow::private_file::outcome::refused)
        throw untrusted_settings{file, found.reason, "config file"};
    if (found.result == devflow::private_file::outcome::absent) return std::nullopt;
    cli::config_result r = cli::config_from_json(found.bytes.reveal());
    if (!r.config) throw early_failure{cli::config_file_failure(file.string(), r)};
    return std::move(r.config);
}

/// Changes the config file under its lock: re-read, `change`, written
/// atomically (0600). Two devflow processes never lose each other's change.
template <class Change>
void update_config(const std::filesystem::path& file, cli::terminal_ui& ui, Change change) {
    auto warn = [&ui](std::string_view m) { ui.log(devflow::log_level::warning, m); };
    const devflow::file_store lock_store = devflow::file_store::single_file(file, warn);
    const auto lock = lock_store.lock("config");
    cli::config_file c = read_config(file).value_or(cli::config_file{});
    change(c);
    devflow::write_private_file(file, cli::config_to_json(c));
}

/// The remembered settings, read the way file_store reads records: never
/// through a symbolic link, and only from a regular file of this user that
/// others can neither read nor write (docs/security.md S1). Another user's
/// file could steer later commands to their server, or send any variable's
/// value as a client secret.
std::optional<cli::remembered> read_remembered(const std::filesystem::path& file) {
    constexpr std::size_t max_size = 64 * 1024;
    const devflow::private_file found = devflow::read_private_file(file, max_size);
    if (found.result == devflow::private_file::outcome::refused)
        throw untrusted_settings{file, found.reason};
    if (found.result == devflow::private_file::outcome::absent) return std::nullopt;
    return cli::remembered_from_json(found.bytes.reveal());
}

void write_remembered(const std::filesystem::path& file, const cli::remembered& r,
                      cli::terminal_ui& ui) {
    try {
        const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
        std::error_code ec;
        if (!std::filesystem::exists(dir, ec)) {
            // Only a directory devflow creates gets 0700; an existing one is left as it is.
            std::filesystem::create_directories(dir);
            std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                         std::filesystem::perm_options::replace);
        }
        devflow::write_private_file(file, cli::remembered_to_json(r));
    } catch (const std::exception&) {
        ui.log(devflow::log_level::warning,
               "cannot remember the settings in " + file.string() +
                   "; pass --issuer and --client-id to later commands");
    }
}

cli::status_input status_of(const devflow::client_config& cfg, const run_context& ctx,
                            std::optional<devflow::token_set> tokens) {
    cli::status_input s;
    s.issuer = cfg.issuer;
    s.client_id = cfg.client_id;
    s.requested_scopes = cfg.scopes;
    s.cache = ctx.cache.path.string();
    s.store = std::string(cli::store_name(ctx.store.kind));
    s.profile = ctx.profile;
    s.tokens = std::move(tokens);
    s.now = std::chrono::system_clock::now();
    return s;
}

// ------------------------------------------------------------ the factory

/// The store of `kind` for the run's cache: files under it, or the
/// keyring with its lock files there and the cache as its partition.
cli::cli_store open_store(run_context& ctx, cli::store_kind kind) {
    cli::terminal_ui* ui = ctx.ui;
    auto warn = [ui](std::string_view m) { ui->log(devflow::log_level::warning, m); };
    if (kind == cli::store_kind::keyring) {
        std::string error;
        const cli::keyring_api* api = cli::load_keyring_module(error);
        if (api == nullptr)
            throw early_failure{{exit_code::storage, "devflow: keyring store: " + error,
                                 std::string{devflow::to_string(devflow::errc::storage_failed)}}};
        std::filesystem::path locks =
            ctx.cache.single_file ? ctx.cache.path.parent_path() : ctx.cache.path;
        if (locks.empty()) locks = ".";
        // The cache is also the keyring partition: two profiles (two
        // caches) signed in to the same client keep two items.
        std::error_code ec;
        std::filesystem::path partition = std::filesystem::absolute(ctx.cache.path, ec);
        if (ec) partition = ctx.cache.path;
        return cli::cli_store(cli::keyring_store(api, devflow::file_store(locks, warn),
                                                 partition.lexically_normal().string()));
    }
    if (ctx.cache.single_file)
        return cli::cli_store(devflow::file_store::single_file(ctx.cache.path, warn));
    return cli::cli_store(devflow::file_store(ctx.cache.path, warn));
}

/// Makes what a command needs from the resolved settings: the token store,
/// the transport and the flow. Every command gets its flow here, so they all
/// share one store, one transport configuration and one way of logging.
class session {
public:
    explicit session(run_context& ctx) : ctx_(ctx), store_(make_store(ctx)) {}

    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// The token store of this run (files under the resolved cache, or the keyring).
    cli::cli_store& store() noexcept { return store_; }

    /// The transport of this run, configured from the settings. The flow
    /// takes it over, with any connection discovery left open.
    cli::cli_http& transport() {
        if (!http_) http_.emplace(cli::transport_settings{ctx_.settings.ca_file, ctx_.settings.proxy});
        return *http_;
    }

    /// The signed-in client's configuration from its cached token record (no
    /// request at all), or std::nullopt when there is none. Without scopes
    /// from anywhere, the record of `openid` (what login asks for by default).
    std::optional<devflow::client_config> cached_config() {
        if (ctx_.settings.issuer.empty() || ctx_.settings.client_id.empty()) return std::nullopt;
        ctx_.base.scopes = ctx_.settings.scopes.value_or(std::vector<std::string>{"openid"});
        devflow::nlohmann_json json;
        return devflow::cached_config(json, store_, ctx_.base);
    }

    /// The configuration for signing in: from the cache when this client has
    /// a record, else discovered. With no scopes from anywhere, openid when
    /// the server offers it.
    devflow::client_config sign_in_config() {
        cli::cli_http& http = transport();
        devflow::nlohmann_json json;
        if (ctx_.settings.scopes) {
            ctx_.base.scopes = *ctx_.settings.scopes;
            return devflow::discover_cached(http, json, store_, ctx_.base);
        }
        const devflow::server_metadata m =
            devflow::fetch_server_metadata(http, json, ctx_.base.issuer);
        ctx_.base.scopes = cli::default_scopes(
            m.scopes_supported, m.source == devflow::metadata_source::openid_configuration);
        return devflow::config_from_metadata(m, ctx_.base);
    }

    /// The flow of `cfg` over this run's store and transport, its log going
    /// to the terminal. The browser is used only when `browser` is true and
    /// --no-browser was not given.
    flow_type& flow(const devflow::client_config& cfg, bool browser = false) {
        cli_browser b{browser && !ctx_.opts.no_browser, ctx_.settings.client_secret_env};
        flow_.emplace(cfg, std::move(transport()), devflow::nlohmann_json{}, store_,
                      devflow::system_clock{}, std::move(b));
        http_.reset();
        cli::terminal_ui* ui = ctx_.ui;
        flow_->on_log([ui](devflow::log_level level, std::string_view m) { ui->log(level, m); });
        return *flow_;
    }

private:
    /// The store --store, DEVFLOW_STORE or the profile asks for (auto when
    /// none does): files under the cache, or the keyring with its lock files
    /// in the cache directory. A keyring asked for by name that is not
    /// usable stops the run (storage_failed); auto then uses files.
    static cli::cli_store make_store(run_context& ctx) {
        cli::terminal_ui* ui = ctx.ui;
        std::string source = ctx.settings.store_source;
        if (source == "the remembered settings" && !ctx.profile.empty())
            source = "the store of profile \"" + cli::one_line(ctx.profile, 64) + "\"";
        const cli::store_parse parsed = cli::parse_store(ctx.settings.store, source);
        if (!parsed.request) throw early_failure{cli::usage_failure(parsed.error)};
        ctx.store = cli::decide_store(*parsed.request, cli::keyring_built, ctx.cache_named,
                                      [] { return cli::keyring_problem(); });
        if (ctx.store.failed) throw early_failure{*ctx.store.failed};
        if (!ctx.store.note.empty() && *parsed.request == cli::store_request::automatic)
            ui->log(devflow::log_level::debug, "tokens in files, not the keyring: " + ctx.store.note);
        return open_store(ctx, ctx.store.kind);
    }

    run_context& ctx_;
    cli::cli_store store_;
    std::optional<cli::cli_http> http_;
    std::optional<flow_type> flow_;
};

// ------------------------------------------------------------ commands

/// `path` made absolute ("" stays ""): remembered paths must not depend on
/// the directory a later command runs in.
std::string absolute(const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    const auto a = std::filesystem::absolute(path, ec);
    return ec ? path : a.lexically_normal().string();
}

/// login with a profile: the profile keeps what login would otherwise
/// remember beside the cache (and the cache, when --cache was given).
void remember_in_profile(run_context& ctx, const cli::remembered& r) {
    std::optional<std::string> cache;
    if (ctx.opts.cache) {
        std::error_code ec;
        std::string absolute = std::filesystem::absolute(ctx.cache.path, ec).string();
        if (!ctx.cache.single_file && !absolute.empty() && absolute.back() != '/') absolute += '/';
        cache = absolute;
    }
    bool created = false;
    try {
        update_config(ctx.config_path, *ctx.ui, [&](cli::config_file& c) {
            auto it = c.profiles.find(ctx.profile);
            created = it == c.profiles.end();
            const cli::profile before = created ? cli::profile{} : it->second;
            c.profiles[ctx.profile] = cli::profile_after_login(before, r, cache);
        });
    } catch (const early_failure&) {
        throw;
    } catch (const untrusted_settings&) {
        throw;
    } catch (const std::exception&) {
        ctx.ui->log(devflow::log_level::warning,
                    "cannot write the profile to " + ctx.config_path.string() +
                        "; pass --issuer and --client-id to later commands");
        return;
    }
    if (created)
        ctx.ui->note("devflow: created profile \"" + cli::one_line(ctx.profile, 64) + "\" in " +
                    cli::one_line(ctx.config_path.string()) + "\n");
}

/// After a login into one store (files or the keyring), the copy of the same
/// session that an earlier login left in the other store is removed: moving
/// to the keyring must not leave the tokens on disk. Said in one line; a
/// store that cannot be reached is a warning, never a failed login.
void forget_other_store(run_context& ctx, const std::string& key) {
    if (!ctx.memory) return;
    const cli::store_kind before =
        ctx.memory->store == "keyring" ? cli::store_kind::keyring : cli::store_kind::file;
    if (before == ctx.store.kind) return;
    const std::string where = before == cli::store_kind::keyring ? "the keyring" : "files";
    try {
        const cli::cli_store old = open_store(ctx, before);
        if (!old.load(key)) return;
        old.erase(key);
        ctx.ui->say("devflow: removed the earlier copy of this session from " + where + "\n");
    } catch (const early_failure& e) {
        ctx.ui->log(devflow::log_level::warning,
                    "could not remove the earlier copy of this session from " + where + ": " + failure_text(e));
    } catch (const devflow::error& e) {
        ctx.ui->log(devflow::log_level::warning,
                    "could not remove the earlier copy of this session from " + where + ": " + e.what());
    }
}

int run_login(run_context& ctx) {
    const cli::resolved& st = ctx.settings;
    if (st.issuer.empty())
        return report(cli::usage_failure("no issuer: pass --issuer URL (or set DEVFLOW_ISSUER)"),
                      ctx.opts, ctx.ui);
    if (st.client_id.empty())
        return report(cli::usage_failure("no client: pass --client-id ID (or set DEVFLOW_CLIENT_ID)"),
                      ctx.opts, ctx.ui);
    session s(ctx);
    const devflow::client_config cfg = s.sign_in_config();
    // Remembered once the sign-in is under way (a denied or expired one is
    // then retried by a bare `devflow login`) or done; never when it is
    // refused, e.g. because the cache holds another client's session. A
    // change of client or issuer is said, never made silently.
    const cli::remembered now_remembered{cfg.issuer,         cfg.client_id,
                                         cfg.scopes,         st.client_secret_env,
                                         absolute(st.ca_file), st.proxy,
                                         std::string(cli::store_name(ctx.store.kind))};
    bool remembered_written = false;
    auto remember = [&] {
        if (remembered_written) return;
        remembered_written = true;
        if (!ctx.profile.empty()) {
            remember_in_profile(ctx, now_remembered);
        } else {
            if (ctx.memory && *ctx.memory == now_remembered) return;
            write_remembered(cli::settings_path(ctx.cache), now_remembered, *ctx.ui);
        }
        if (ctx.memory && (ctx.memory->issuer != now_remembered.issuer ||
                           ctx.memory->client_id != now_remembered.client_id))
            ctx.ui->say(cli::settings_switch_line(*ctx.memory, now_remembered));
    };

    flow_type& flow = s.flow(cfg, /*browser=*/true);
    const bool json_out = ctx.opts.json;
    cli::terminal_ui* ui = ctx.ui;
    flow.on_prompt([ui, json_out, &remember](const devflow::prompt_info& p) {
        remember();
        if (json_out) out_json(cli::prompt_json(p));
        ui->prompt(p);
    });
    // --force: end the current session properly first (revoked at the server,
    // as logout does), then sign in again.
    if (ctx.opts.force) flow.logout();
    const devflow::token_set tokens = flow.login(ctx.stop);
    remember();
    ui->finish();
    forget_other_store(ctx, flow.store_key());
    const bool reused = !ui->prompted();
    std::optional<std::chrono::seconds> valid_for;
    if (tokens.expires_at)
        valid_for = std::chrono::duration_cast<std::chrono::seconds>(
            *tokens.expires_at - std::chrono::system_clock::now());
    ui->note(cli::signed_in_line(cfg.issuer, cli::claims_of(tokens).display_name(), valid_for, reused));
    if (json_out) out_json(cli::signed_in_json(status_of(cfg, ctx, tokens)));
    return 0;
}

int run_token(run_context& ctx) {
    session s(ctx);
    auto cfg = s.cached_config();
    // A cached run: the endpoints come from the token record, never from discovery.
    if (!cfg) return report(cli::not_signed_in(ctx.base.issuer, ctx.base.client_id), ctx.opts, ctx.ui);
    cfg->session_end = devflow::on_session_end::raise;  // a script never gets a prompt
    flow_type& flow = s.flow(*cfg);
    const devflow::secret token = flow.access_token(ctx.stop);
    if (ctx.opts.id_token) {
        // A valid session first (refreshed when needed), then its id_token.
        const auto stored = flow.stored_tokens();
        if (!stored || stored->id_token.empty())
            return report(cli::no_id_token(), ctx.opts, ctx.ui);
        const std::string& id = stored->id_token.reveal();
        if (ctx.opts.json) {
            out_json(cli::id_token_json(id, cli::claims_of(id).id_token_expires));
            return 0;
        }
        // Printed because the user asked for it, as the access token is.
        std::fwrite(id.data(), 1, id.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
        return 0;
    }
    if (ctx.opts.json) {
        const auto stored = flow.stored_tokens();
        out_json(cli::token_json(token.reveal(), stored ? stored->expires_at : std::nullopt));
        return 0;
    }
    // The one place the tool prints a token: the user asked for it.
    const std::string& t = token.reveal();
    std::fwrite(t.data(), 1, t.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return 0;
}

/// The kubectl exec credential plugin: an ExecCredential on stdout, the
/// prompt (when kubectl says a person is there) on stderr.
int run_kubectl_credential(run_context& ctx) {
    // Without KUBERNETES_EXEC_INFO (run by hand) a person is there when stdin is a terminal.
    const cli::exec_info info = cli::parse_exec_info(environment_variable("KUBERNETES_EXEC_INFO"),
                                                     ::isatty(STDIN_FILENO) == 1);
    if (!info.problem.empty()) return report(cli::usage_failure(info.problem), ctx.opts, ctx.ui);
    const auto not_signed_in = [&ctx] {
        return report(cli::kubectl_not_signed_in(ctx.base.issuer, ctx.base.client_id), ctx.opts,
                      ctx.ui);
    };
    session s(ctx);
    std::optional<devflow::client_config> cfg = s.cached_config();
    if (!cfg) {
        if (!info.interactive) return not_signed_in();
        if (ctx.settings.issuer.empty() || ctx.settings.client_id.empty())
            return report(cli::not_signed_in(ctx.settings.issuer, ctx.settings.client_id),
                          ctx.opts, ctx.ui);
        cfg = s.sign_in_config();
    }
    // A person at kubectl's terminal signs in when the session is gone; a
    // script never waits for one.
    cfg->session_end = info.interactive ? devflow::on_session_end::interactive
                                        : devflow::on_session_end::raise;
    flow_type& flow = s.flow(*cfg, /*browser=*/true);
    cli::terminal_ui* ui = ctx.ui;
    flow.on_prompt([ui](const devflow::prompt_info& p) { ui->prompt(p); });
    std::optional<devflow::secret> token;
    try {
        token = flow.access_token(ctx.stop);
    } catch (const devflow::error& e) {
        if (e.code() == devflow::errc::reauth_required && !info.interactive) return not_signed_in();
        throw;
    }
    ui->finish();
    const auto stored = flow.stored_tokens();
    // stdout is kubectl's: the ExecCredential and nothing else.
    out_json(cli::exec_credential_json(info.api_version, token->reveal(),
                                       stored ? stored->expires_at : std::nullopt));
    return 0;
}

/// stdin, up to `max` bytes (git's request; it may hold a password).
devflow::secret read_stdin(std::size_t max) {
    std::string bytes;
    bytes.reserve(max);
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        const std::size_t take = std::min(static_cast<std::size_t>(n), max - bytes.size());
        bytes.append(buffer, take);  // reserved: never reallocated, so never copied
        if (bytes.size() == max) break;
    }
    ::explicit_bzero(buffer, sizeof buffer);
    return devflow::secret{std::move(bytes)};
}

/// git's credential helper: `get` answers with the token, `store` does
/// nothing, `erase` refreshes a refused token.
int run_git_credential(run_context& ctx) {
    const std::string& operation = ctx.opts.arguments.front();
    const devflow::secret input = read_stdin(64 * 1024);
    if (operation == "store") return 0;  // the token lives in devflow's cache
    if (!ctx.opts.host)
        return report(cli::usage_failure("git-credential needs --host HOST, the host it gives tokens "
                                         "to (`devflow setup-git --host HOST` writes it)"),
                      ctx.opts, ctx.ui);
    const cli::credential_request request = cli::parse_credential_request(input.reveal());
    if (!request.problem.empty())
        return report(cli::usage_failure(request.problem), ctx.opts, ctx.ui);
    if (const std::string why = cli::refusal_for(request, *ctx.opts.host); !why.empty()) {
        // No answer: git goes on to its other helpers, or asks the user.
        ctx.ui->log(devflow::log_level::warning, why);
        return 0;
    }
    session s(ctx);
    auto cfg = s.cached_config();
    if (!cfg) {
        if (operation == "erase") return 0;  // nothing to drop
        return report(cli::not_signed_in(ctx.base.issuer, ctx.base.client_id), ctx.opts, ctx.ui);
    }
    cfg->session_end = devflow::on_session_end::raise;  // git never gets a prompt
    flow_type& flow = s.flow(*cfg);
    if (operation == "erase") {
        if (request.password.empty()) return 0;
        // The server refused the password: when it is the cached access
        // token, a refresh replaces it (the refresh token stays).
        (void)flow.refresh_refused(request.password, ctx.stop);
        ctx.ui->log(devflow::log_level::info, "the refused token was replaced by a refresh");
        return 0;
    }
    const devflow::secret token = flow.access_token(ctx.stop);
    const auto stored = flow.stored_tokens();
    devflow::secret answer{cli::credential_answer(cli::git_username(ctx.opts.username, request),
                                                  token.reveal(),
                                                  stored ? stored->expires_at : std::nullopt)};
    out(answer.reveal());
    return 0;
}

/// Runs `argv` (no shell), its stdout and stderr ours; its exit status, or
/// -1 when it cannot be started.
int run_program(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/// This program's absolute path, for the helper git runs.
std::string own_executable() {
    std::error_code ec;
    const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("devflow") : p.string();
}

/// Writes the global git config entry that runs `devflow git-credential`
/// for https://HOST, as `gh auth setup-git` does.
int run_setup_git(run_context& ctx) {
    const cli::options& o = ctx.opts;
    if (!o.host)
        return report(cli::usage_failure("setup-git needs --host HOST (e.g. git.example.org)"), o,
                      ctx.ui);
    if (!cli::valid_git_host(*o.host))
        return report(cli::usage_failure("\"" + *o.host +
                                         "\" is not a host (give the host of the https URL, with "
                                         ":PORT when it has one)"),
                      o, ctx.ui);
    // The helper runs with what this command was given, so git keeps using
    // the same session whatever the default profile becomes later.
    std::vector<std::string> words{own_executable()};
    auto add = [&words](const char* name, const std::string& value) {
        words.emplace_back(name);
        words.push_back(value);
    };
    if (!ctx.profile.empty()) add("--profile", ctx.profile);
    if (o.issuer) add("--issuer", *o.issuer);
    if (o.client_id) add("--client-id", *o.client_id);
    if (o.scopes) words.push_back("--scope=" + cli::join(*o.scopes));
    if (o.client_secret_env) add("--client-secret-env", *o.client_secret_env);
    if (o.cache) add("--cache", absolute(*o.cache) + (ctx.cache.single_file ? "" : "/"));
    if (o.ca_file) add("--ca-file", absolute(*o.ca_file));
    if (o.proxy) add("--proxy", *o.proxy);
    if (o.store) add("--store", *o.store);
    words.emplace_back("git-credential");
    add("--host", *o.host);
    if (o.username) add("--username", *o.username);
    const std::string key = cli::git_helper_key(*o.host);
    // An empty helper first: no other helper answers for this host.
    for (const auto& argv : {std::vector<std::string>{"git", "config", "--global", "--replace-all", key, ""},
                             std::vector<std::string>{"git", "config", "--global", "--add", key,
                                                      cli::git_helper_command(words)}}) {
        const int rc = run_program(argv);
        if (rc != 0)
            return report({exit_code::storage,
                           rc < 0 ? "devflow: cannot run git (is it installed?)"
                                  : "devflow: `git config --global` failed (exit status " +
                                        std::to_string(rc) + "); check your git configuration",
                           "git_config"},
                          o, ctx.ui);
    }
    ctx.ui->note(cli::setup_git_line(*o.host));
    return 0;
}

/// Where a session's keep-alive keeps its lock and its pid: beside the
/// session's record, checked like it. In a cache directory, the lock of a
/// key of its own ("<hash>.json.lock") and the pid in "<hash>.json"; beside
/// a single-file cache, FILE.keep-alive.lock and FILE.keep-alive.
struct keep_alive_files {
    devflow::file_store store;
    std::string key;
    std::filesystem::path pid_file;
};

keep_alive_files keep_alive_files_of(const run_context& ctx, const flow_type& flow) {
    cli::terminal_ui* ui = ctx.ui;
    auto warn = [ui](std::string_view m) { ui->log(devflow::log_level::warning, m); };
    const std::string key = "devflow keep-alive\n" + flow.store_key();
    if (ctx.cache.single_file) {
        std::filesystem::path file = ctx.cache.path;
        file += ".keep-alive";
        devflow::file_store store = devflow::file_store::single_file(file, warn);
        return {std::move(store), key, file};
    }
    devflow::file_store store(ctx.cache.path, warn);
    std::filesystem::path pid_file = store.path_for(key);
    return {std::move(store), key, std::move(pid_file)};
}

/// Whether a keep-alive runs for `flow`'s session: its lock is held.
cli::keep_alive_state keep_alive_state_of(const run_context& ctx, const flow_type& flow) {
    cli::keep_alive_state state;
    keep_alive_files files = keep_alive_files_of(ctx, flow);
    if (files.store.try_lock(files.key)) return state;  // free: nobody runs (released at once)
    state.running = true;
    const devflow::private_file pid = devflow::read_private_file(files.pid_file, 64);
    if (pid.result == devflow::private_file::outcome::ok) {
        const long n = std::atol(pid.bytes.reveal().c_str());
        if (n > 0) state.pid = n;
    }
    return state;
}

/// Refreshes on the keep-alive schedule until a signal (exit 0) or the end
/// of the session (exit 7), holding the session's keep-alive lock.
int run_keep_alive(run_context& ctx) {
    session s(ctx);
    auto cfg = s.cached_config();
    if (!cfg) return report(cli::not_signed_in(ctx.base.issuer, ctx.base.client_id), ctx.opts, ctx.ui);
    cfg->session_end = devflow::on_session_end::raise;  // nobody is there to sign in
    flow_type& flow = s.flow(*cfg);
    keep_alive_files files = keep_alive_files_of(ctx, flow);
    // A short wait: `devflow status` takes the lock for an instant to look.
    files.store.set_lock_timeout(std::chrono::seconds{2});
    devflow::file_store::key_lock held;
    try {
        held = files.store.lock(files.key, ctx.stop);
    } catch (const devflow::error& e) {
        if (e.code() == devflow::errc::cancelled) throw;
        const devflow::private_file pid = devflow::read_private_file(files.pid_file, 64);
        const long n = pid.result == devflow::private_file::outcome::ok
                           ? std::atol(pid.bytes.reveal().c_str())
                           : 0;
        return report(cli::keep_alive_running(n > 0 ? pid_text(n) : std::string{}), ctx.opts, ctx.ui);
    }
    devflow::write_private_file(files.pid_file, std::to_string(::getpid()) + "\n");
    if (!flow.stored_tokens())
        return report(cli::not_signed_in(ctx.base.issuer, ctx.base.client_id), ctx.opts, ctx.ui);
    ctx.ui->note("devflow: keeping the session of client \"" + cli::one_line(cfg->client_id, 200) +
                 "\" at " + cli::one_line(cfg->issuer, 200) + " alive (" + pid_text(::getpid()) +
                 "); stop it with Ctrl-C or SIGTERM\n");
    flow.keep_alive(ctx.stop);
    std::error_code ec;
    std::filesystem::remove(files.pid_file, ec);
    if (ctx.stop.stop_requested()) {
        ctx.ui->note("devflow: keep-alive stopped\n");
        return 0;
    }
    return report(cli::keep_alive_session_ended(), ctx.opts, ctx.ui);
}

int run_status(run_context& ctx) {
    session s(ctx);
    const auto cfg = s.cached_config();
    std::optional<devflow::token_set> tokens;
    devflow::client_config shown = ctx.base;
    std::optional<cli::keep_alive_state> keep_alive;
    if (cfg) {
        flow_type& flow = s.flow(*cfg);
        tokens = flow.stored_tokens();  // no network request
        shown = *cfg;
        if (tokens) keep_alive = keep_alive_state_of(ctx, flow);
    }
    cli::status_input st = status_of(shown, ctx, std::move(tokens));
    st.keep_alive = keep_alive;
    if (ctx.opts.json)
        out_json(cli::status_json(st));
    else
        out(cli::format_status_text(st));
    return cli::signed_in(st) ? 0 : static_cast<int>(exit_code::reauth);
}

int run_logout(run_context& ctx) {
    session s(ctx);
    const auto cfg = s.cached_config();
    if (!cfg) {
        ctx.ui->note(cli::nothing_to_sign_out_line());
        if (ctx.opts.json) out_json(cli::logout_json(false, false));
        return 0;
    }
    flow_type& flow = s.flow(*cfg);
    const bool had_tokens = flow.stored_tokens().has_value();
    const bool revoked = flow.logout();
    ctx.ui->note(cli::logout_line(!cfg->revocation_endpoint.empty(), revoked));
    if (ctx.opts.json) out_json(cli::logout_json(had_tokens, revoked));
    return 0;
}

/// Fills in where a command's settings come from for `profile` ("": none):
/// the cache, what login remembered (beside the cache, or in the profile),
/// and the settings resolved from the command line, the environment and
/// those. A named profile that does not exist is an error, except for login
/// (which creates it).
void resolve_for_profile(run_context& ctx, const std::string& profile) {
    const cli::options& o = ctx.opts;
    ctx.profile = profile;
    ctx.memory.reset();
    ctx.cache_named = o.cache.has_value() || environment_variable("DEVFLOW_CACHE").has_value();
    const auto state_directory = [] { return devflow::file_store::default_directory(); };
    if (profile.empty()) {
        ctx.cache = cli::resolve_cache(o, environment_variable, state_directory, is_directory);
        ctx.memory = read_remembered(cli::settings_path(ctx.cache));
    } else {
        if (!cli::valid_profile_name(profile))
            throw early_failure{cli::usage_failure(
                "\"" + profile + "\" is not a profile name (letters, digits, '.', '_', '-')")};
        const cli::profile* found = nullptr;
        if (ctx.config)
            if (auto it = ctx.config->profiles.find(profile); it != ctx.config->profiles.end())
                found = &it->second;
        if (found == nullptr && o.cmd != cli::command::login)
            throw early_failure{cli::usage_failure(
                cli::no_such_profile(profile, ctx.config) + "; create it with `devflow login --profile " +
                profile + " --issuer URL --client-id ID`")};
        const cli::profile p = found != nullptr ? *found : cli::profile{};
        if (o.cache || environment_variable("DEVFLOW_CACHE"))
            ctx.cache = cli::resolve_cache(o, environment_variable, state_directory, is_directory);
        else
            ctx.cache = cli::profile_cache(profile, p, state_directory(), is_directory);
        if (found != nullptr) ctx.memory = cli::remembered_of(p);
        if (!p.cache.empty()) ctx.cache_named = true;
    }
    ctx.settings = cli::resolve_settings(o, environment_variable, ctx.memory);
    ctx.base = devflow::client_config{};
    ctx.base.issuer = ctx.settings.issuer;
    ctx.base.client_id = ctx.settings.client_id;
}

/// The CA file must be readable: a missing one would otherwise show as a
/// network failure at the first request.
void check_ca_file(const run_context& ctx) {
    const std::string& file = ctx.settings.ca_file;
    if (file.empty() || ::access(file.c_str(), R_OK) == 0) return;
    const std::string why = std::error_code(errno, std::generic_category()).message();
    throw early_failure{cli::usage_failure("the CA file " + file + " (--ca-file) cannot be read (" +
                                           why + ")")};
}

/// The client secret from the variable the settings name (checked only
/// where a secret is needed).
void load_client_secret(run_context& ctx) {
    if (ctx.settings.client_secret_env.empty()) return;
    const auto value = environment_variable(ctx.settings.client_secret_env);
    if (!value)
        throw early_failure{cli::usage_failure("the environment variable " +
                                               ctx.settings.client_secret_env +
                                               " (--client-secret-env) is not set")};
    ctx.base.client_secret = devflow::secret{*value};
}

int run_profiles(run_context& ctx) {
    std::vector<cli::profile_row> rows;
    const std::string default_profile = ctx.config ? ctx.config->default_profile : std::string{};
    auto add = [&](const std::string& name) {
        resolve_for_profile(ctx, name);
        cli::profile_row r;
        r.name = name.empty() ? std::string(cli::unnamed_profile) : name;
        r.is_default = name == default_profile;
        r.issuer = ctx.settings.issuer;
        r.client_id = ctx.settings.client_id;
        r.cache = ctx.cache.path.string();
        // A store that cannot be read (a locked or absent keyring) leaves
        // its row "unknown"; the other profiles are still listed.
        try {
            session s(ctx);
            if (const auto cfg = s.cached_config()) r.tokens = s.flow(*cfg).stored_tokens();
        } catch (const early_failure& e) {
            r.problem = failure_text(e);
        } catch (const devflow::error& e) {
            r.problem = e.what();
        }
        rows.push_back(std::move(r));
    };
    // The unnamed settings, when login remembered any.
    resolve_for_profile(ctx, {});
    if (ctx.memory) add({});
    if (ctx.config)
        for (const auto& [name, p] : ctx.config->profiles) add(name);
    const auto now = std::chrono::system_clock::now();
    if (ctx.opts.json)
        out_json(cli::profiles_json(rows, default_profile, now));
    else
        out(cli::format_profiles_text(rows, now));
    return 0;
}

int run_use(run_context& ctx) {
    const std::string name = ctx.opts.arguments.front();
    const bool unnamed = name == cli::unnamed_profile;
    if (!unnamed && (!ctx.config || ctx.config->profiles.count(name) == 0))
        throw early_failure{cli::usage_failure(cli::no_such_profile(name, ctx.config))};
    if (unnamed && !ctx.config) {
        ctx.ui->note(cli::use_line({}));
        return 0;
    }
    update_config(ctx.config_path, *ctx.ui, [&](cli::config_file& c) {
        if (!unnamed && c.profiles.count(name) == 0)
            throw early_failure{cli::usage_failure(cli::no_such_profile(name, c))};
        c.default_profile = unnamed ? std::string{} : name;
    });
    ctx.ui->note(cli::use_line(name));
    return 0;
}

int columns_of_stderr() {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    if (auto c = environment_variable("COLUMNS")) {
        const int n = std::atoi(c->c_str());
        if (n > 0) return n;
    }
    return 80;
}

std::string qr_for(std::string_view url, bool color) {
    // Coloured: black on white; plain: light ink on a dark terminal.
    return cli::module_qr_text(url, color);
}

int run(const std::vector<std::string_view>& args, std::stop_token stop) {
    const cli::parse_result parsed = cli::parse_arguments(args);
    if (!parsed.ok()) return report(cli::usage_failure(parsed.error), parsed.opts, nullptr);
    const cli::options& o = parsed.opts;
    switch (o.cmd) {
        case cli::command::help:
            out(o.help_topic == cli::command::none ? cli::usage_text()
                                                   : cli::command_help(o.help_topic));
            return 0;
        case cli::command::version: {
            // The one command that loads the module without a request: to name the HTTP library.
            std::string error;
            const cli::module_api* module = cli::load_module(error);
            out(std::string("devflow ") + DEVFLOW_VERSION_STRING + " (" +
                (module != nullptr ? std::string(module->http_library()) : "no module: " + error) + ")\n");
            return 0;
        }
        case cli::command::man:
            out(cli::man_page(DEVFLOW_VERSION_STRING));
            return 0;
        case cli::command::completion:
            out(cli::completion_script(o.arguments.front()));
            return 0;
        case cli::command::none:
            std::fputs(cli::usage_text().c_str(), stderr);
            return static_cast<int>(exit_code::usage);
        default:
            break;
    }

    const bool fancy = ::isatty(STDERR_FILENO) == 1 &&
                       environment_variable("TERM").value_or("dumb") != "dumb";
    const bool color = fancy && !environment_variable("NO_COLOR");
    cli::terminal_ui ui(fancy, color, fancy ? columns_of_stderr() : 80, o.verbose,
                        [color](std::string_view url) { return qr_for(url, color); });
    ui.set_quiet(o.quiet);
    run_context ctx;
    ctx.opts = o;
    ctx.stop = stop;
    ctx.ui = &ui;
    try {
        ctx.config_path = cli::config_path(environment_variable, home_directory);
        ctx.config = read_config(ctx.config_path);
        switch (o.cmd) {
            case cli::command::profiles: return run_profiles(ctx);
            case cli::command::use: return run_use(ctx);
            default: break;
        }
        resolve_for_profile(ctx, cli::selected_profile(o, environment_variable, ctx.config));
        check_ca_file(ctx);
        load_client_secret(ctx);
        switch (o.cmd) {
            case cli::command::login: return run_login(ctx);
            case cli::command::token: return run_token(ctx);
            case cli::command::status: return run_status(ctx);
            case cli::command::logout: return run_logout(ctx);
            case cli::command::keep_alive: return run_keep_alive(ctx);
            case cli::command::kubectl_credential: return run_kubectl_credential(ctx);
            case cli::command::git_credential: return run_git_credential(ctx);
            case cli::command::setup_git: return run_setup_git(ctx);
            default: return static_cast<int>(exit_code::internal);
        }
    } catch (const early_failure& f) {
        return report(f.f, o, &ui);
    } catch (const untrusted_settings& u) {
        return report(cli::untrusted_settings_failure(u.file.string(), u.reason, u.kind), o, &ui);
    } catch (const devflow::error& e) {
        return report(cli::describe(e, {ctx.settings.client_id}), o, &ui);
    } catch (const std::exception& e) {
        return report({exit_code::internal,
                       "devflow: internal error: " + cli::one_line(e.what()) +
                           "; please report it",
                       "internal"},
                      o, &ui);
    }
}

}  // namespace

int main(int argc, char** argv) {
    // SIGINT and SIGTERM cancel through a std::stop_source (errc::cancelled,
    // exit 130): they are blocked in every thread and taken by one watcher
    // thread, since a stop request is not async-signal-safe. A second signal
    // ends the process at once.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto* stop = new std::stop_source;  // never freed: the watcher may outlive main's locals
    std::thread([signals, stop] {
        int count = 0;
        for (;;) {
            int sig = 0;
            if (sigwait(&signals, &sig) != 0) continue;
            if (++count == 1)
                stop->request_stop();
            else
                std::_Exit(static_cast<int>(exit_code::cancelled));
        }
    }).detach();

    std::vector<std::string_view> args(argv + 1, argv + argc);
    const int code = run(args, stop->get_token());
    std::fflush(stdout);
    return code;
}
