// devflow — system_browser and no_browser: open the verification URL for the
// user, or don't (docs/browser.md).
#pragma once

#include <devflow/detail/browser_command.hpp>

#include <cerrno>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <crt_externs.h>
#else
extern char** environ;  // POSIX: the process environment
#endif

namespace devflow {

namespace detail {

/// The process environment block, for posix_spawnp.
inline char** environment_block() noexcept {
#if defined(__APPLE__)
    return *_NSGetEnviron();
#else
    return ::environ;
#endif
}

/// Starts `argv` with posix_spawnp (PATH lookup, never a shell), stdin, stdout
/// and stderr on /dev/null, in its own process group (a Ctrl-C meant for us
/// does not reach it) with default signal handling. Returns its pid, or
/// std::nullopt when it could not be started.
[[nodiscard]] inline std::optional<::pid_t> spawn_detached(const std::vector<std::string>& argv) {
    if (argv.empty()) return std::nullopt;
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
    args.push_back(nullptr);

    ::posix_spawn_file_actions_t actions;
    if (::posix_spawn_file_actions_init(&actions) != 0) return std::nullopt;
    ::posix_spawnattr_t attributes;
    if (::posix_spawnattr_init(&attributes) != 0) {
        ::posix_spawn_file_actions_destroy(&actions);
        return std::nullopt;
    }
    bool ready = ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0 &&
                 ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) == 0 &&
                 ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) == 0;
    ::sigset_t no_signals;
    ::sigset_t defaults;
    sigemptyset(&no_signals);
    sigemptyset(&defaults);
    for (const int s : {SIGPIPE, SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGCHLD}) sigaddset(&defaults, s);
    ready = ready &&
            ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                        POSIX_SPAWN_SETSIGDEF) == 0 &&
            ::posix_spawnattr_setpgroup(&attributes, 0) == 0 &&
            ::posix_spawnattr_setsigmask(&attributes, &no_signals) == 0 &&
            ::posix_spawnattr_setsigdefault(&attributes, &defaults) == 0;
    ::pid_t pid = -1;
    const int rc = ready ? ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(),
                                          environment_block())
                         : -1;
    ::posix_spawnattr_destroy(&attributes);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return std::nullopt;
    return pid;
}

/// Waits for `pid` to end; returns its exit status, or -1 when it was killed
/// by a signal or could not be waited for (e.g. SIGCHLD is ignored).
inline int wait_for_exit(::pid_t pid) noexcept {
    int status = 0;
    ::pid_t r = -1;
    do {
        r = ::waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

}  // namespace detail

/// Models devflow::browser with the desktop's opener ($BROWSER, xdg-open or
/// open), never through a shell and never on a headless machine.
class system_browser {
public:
    /// Looks up one environment variable; std::nullopt when unset.
    using environment = detail::environment_lookup;
    /// Called on a background thread with the opener's exit status (or -1)
    /// once it has ended; for tests and diagnostics.
    using exit_callback = std::function<void(int exit_status)>;

    /// Reads the process environment.
    system_browser() = default;

    /// Reads `env` instead of the process environment (an empty one means the
    /// process environment) and reports the opener's exit to `on_exit`.
    explicit system_browser(environment env, exit_callback on_exit = {})
        : env_(std::move(env)), on_exit_(std::move(on_exit)) {}

    /// Starts the opener for `url` (RFC 8628 §3.3) and returns true when it
    /// started; false for a refused URL, a headless machine or a failed spawn.
    /// Returns without waiting: a background thread reaps the opener.
    bool open(std::string_view url) const {
        const std::optional<std::vector<std::string>> argv = detail::browser_command(
            url, env_ ? env_ : environment(&detail::process_environment));
        if (!argv) return false;
        const std::optional<::pid_t> pid = detail::spawn_detached(*argv);
        if (!pid) return false;
        const ::pid_t child = *pid;
        try {
            std::thread([child, on_exit = on_exit_] {
                const int status = detail::wait_for_exit(child);
                if (on_exit) {
                    try {
                        on_exit(status);
                    } catch (...) {
                        // A reporting hook must not end the program.
                    }
                }
            }).detach();
        } catch (...) {
            // No thread to wait with: reap it now if it is already done (else
            // it stays a zombie until we exit; the browser opened regardless).
            int status = 0;
            ::waitpid(child, &status, WNOHANG);
        }
        return true;
    }

private:
    environment env_;
    exit_callback on_exit_;
};

/// Models devflow::browser by never opening anything: for services, CI and
/// users who prefer to open the URL themselves.
class no_browser {
public:
    /// Returns false: nothing was opened.
    bool open(std::string_view) const noexcept { return false; }
};

}  // namespace devflow
