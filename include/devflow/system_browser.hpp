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

#include <cstdlib>

#include <dirent.h>
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

/// The process environment without the variables named in `withheld`, as
/// "NAME=value" strings (for a child that must not see a secret).
inline std::vector<std::string> environment_without(const std::vector<std::string>& withheld) {
    std::vector<std::string> out;
    for (char** e = environment_block(); e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry = *e;
        const std::string_view name = entry.substr(0, entry.find('='));
        bool keep = true;
        for (const auto& w : withheld) keep = keep && name != w;
        if (keep) out.emplace_back(entry);
    }
    return out;
}

/// Closes, in the child, every descriptor above 2 that is open in this process
/// (its sockets and files must not leak into the browser).
inline bool close_inherited_descriptors(::posix_spawn_file_actions_t& actions) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return ::posix_spawn_file_actions_addclosefrom_np(&actions, 3) == 0;
#else
    // Without closefrom: close each descriptor open now (read from /dev/fd).
    // Descriptors opened by other threads meanwhile are missed, so they should
    // use O_CLOEXEC, as devflow's own do.
    std::vector<int> open_fds;
    if (::DIR* d = ::opendir("/dev/fd")) {
        const int own = ::dirfd(d);
        while (const ::dirent* e = ::readdir(d)) {
            const int fd = std::atoi(e->d_name);
            if (fd > 2 && fd != own && e->d_name[0] >= '0' && e->d_name[0] <= '9') open_fds.push_back(fd);
        }
        ::closedir(d);
    }
    for (const int fd : open_fds)
        if (::fcntl(fd, F_GETFD) >= 0 && ::posix_spawn_file_actions_addclose(&actions, fd) != 0)
            return false;
    return true;
#endif
}

/// Starts `argv` with posix_spawnp (PATH lookup, never a shell), stdin, stdout
/// and stderr on /dev/null and no other descriptor, in its own process group
/// (a Ctrl-C meant for us does not reach it) with default signal handling,
/// and with the process environment less the variables in `withheld`.
/// Returns its pid, or std::nullopt when it could not be started.
[[nodiscard]] inline std::optional<::pid_t> spawn_detached(const std::vector<std::string>& argv,
                                                           const std::vector<std::string>& withheld = {}) {
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
                 ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) == 0 &&
                 close_inherited_descriptors(actions);
    std::vector<std::string> environment = environment_without(withheld);
    std::vector<char*> envp;
    envp.reserve(environment.size() + 1);
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
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
                                          envp.data())
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

    /// Keeps the environment variables named in `names` away from the
    /// browser (e.g. the one that holds a client secret). The browser never
    /// inherits a descriptor other than stdin, stdout and stderr.
    void withhold_environment(std::vector<std::string> names) { withheld_ = std::move(names); }

    /// The variables withhold_environment() named.
    [[nodiscard]] const std::vector<std::string>& withheld_environment() const noexcept {
        return withheld_;
    }

    /// Starts the opener for `url` (RFC 8628 §3.3) and returns true when it
    /// started; false for a refused URL, a headless machine or a failed spawn.
    /// Returns without waiting: a background thread reaps the opener.
    bool open(std::string_view url) const {
        const std::optional<std::vector<std::string>> argv = detail::browser_command(
            url, env_ ? env_ : environment(&detail::process_environment));
        if (!argv) return false;
        const std::optional<::pid_t> pid = detail::spawn_detached(*argv, withheld_);
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
    std::vector<std::string> withheld_;
};

/// Models devflow::browser by never opening anything: for services, CI and
/// users who prefer to open the URL themselves.
class no_browser {
public:
    /// Returns false: nothing was opened.
    bool open(std::string_view) const noexcept { return false; }
};

}  // namespace devflow
