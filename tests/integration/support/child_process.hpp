// Child processes for the integration tests: the OpenID provider (node), the
// simulated user (node) and the cross-process workers. Started with
// fork + execve (never a shell) so that each child gets PR_SET_PDEATHSIG:
// when the test process dies (a crash, a ctest timeout), its children get
// SIGTERM instead of lingering. Only the tests use this.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // POSIX: the process environment

namespace devflow_test {

/// What to start and where its output goes.
struct child_options {
    /// argv[0] is looked up in PATH when it holds no slash.
    std::vector<std::string> argv;
    /// Environment variables set (or replaced) on top of this process's.
    std::vector<std::pair<std::string, std::string>> env;
    /// Where stdout goes: a file (truncated), or a pipe read with read_line()
    /// when `stdout_pipe` is set, else /dev/null.
    std::string stdout_file;
    bool stdout_pipe = false;
    /// Where stderr goes: a file (truncated), else /dev/null.
    std::string stderr_file;
    /// What stdin reads: a file, else /dev/null.
    std::string stdin_file;
};

/// The full path of `program`: itself when it holds a slash, else the first
/// executable of that name in $PATH; std::nullopt when there is none.
inline std::optional<std::string> find_program(const std::string& program) {
    if (program.find('/') != std::string::npos) return program;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const auto colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        if (dir.empty()) dir = ".";
        const std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) return std::nullopt;
        dirs.remove_prefix(colon + 1);
    }
}

/// One running child; terminated (SIGTERM, then SIGKILL) on destruction.
class child_process {
public:
    /// Starts the child.
    /// @throws std::runtime_error when the program is missing or cannot start
    explicit child_process(const child_options& options) {
        if (options.argv.empty()) throw std::runtime_error("child_process: empty argv");
        const std::optional<std::string> program = find_program(options.argv[0]);
        if (!program) throw std::runtime_error("child_process: `" + options.argv[0] + "` not found in PATH");

        // Everything the child needs is built before fork: after it, the child
        // only calls async-signal-safe functions.
        std::vector<std::string> env_strings;
        for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
            const std::string_view entry(*e);
            bool replaced = false;
            for (const auto& [name, value] : options.env)
                if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
                    entry[name.size()] == '=')
                    replaced = true;
            if (!replaced) env_strings.emplace_back(entry);
        }
        for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
        std::vector<char*> envp;
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        std::vector<std::string> args = options.argv;
        args[0] = *program;
        std::vector<char*> argv;
        for (auto& s : args) argv.push_back(s.data());
        argv.push_back(nullptr);

        const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        int out_fd = -1;
        int pipe_fds[2] = {-1, -1};
        if (options.stdout_pipe) {
            if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("child_process: pipe failed");
            out_fd = pipe_fds[1];
        } else if (!options.stdout_file.empty()) {
            out_fd = ::open(options.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        }
        const int err_fd = options.stderr_file.empty()
                               ? -1
                               : ::open(options.stderr_file.c_str(),
                                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const int in_fd = options.stdin_file.empty()
                              ? -1
                              : ::open(options.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
        const ::pid_t parent = ::getpid();

        const ::pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
            ::setpgid(0, 0);  // a Ctrl-C at the terminal reaches the test, which then stops us
            ::sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::dup2(in_fd >= 0 ? in_fd : null_fd, 0);
            ::dup2(out_fd >= 0 ? out_fd : null_fd, 1);
            ::dup2(err_fd >= 0 ? err_fd : null_fd, 2);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        const int fork_errno = errno;
        if (null_fd >= 0) ::close(null_fd);
        if (err_fd >= 0) ::close(err_fd);
        if (in_fd >= 0) ::close(in_fd);
        if (options.stdout_pipe) {
            ::close(pipe_fds[1]);
            stdout_fd_ = pipe_fds[0];
        } else if (out_fd >= 0) {
            ::close(out_fd);
        }
        if (pid < 0) {
            if (stdout_fd_ >= 0) ::close(stdout_fd_);
            throw std::runtime_error(std::string("child_process: fork failed: ") + std::strerror(fork_errno));
        }
        pid_ = pid;
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    ~child_process() {
        terminate();
        if (stdout_fd_ >= 0) ::close(stdout_fd_);
    }

    /// The child's process id.
    [[nodiscard]] ::pid_t pid() const noexcept { return pid_; }

    /// One line from the child's stdout pipe (without the newline), or
    /// std::nullopt when none arrived within `timeout` or stdout closed.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
                std::string line = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (stdout_fd_ < 0 || left.count() <= 0) return std::nullopt;
            ::pollfd p{stdout_fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) return std::nullopt;
            char buffer[4096];
            const ::ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            pending_.append(buffer, static_cast<std::size_t>(n));
        }
    }

    /// Waits up to `timeout` for the child to end; its exit status (-1 when a
    /// signal ended it), or std::nullopt when it is still running.
    std::optional<int> wait_for(std::chrono::milliseconds timeout) {
        if (exit_status_) return exit_status_;
        if (pid_ <= 0) return std::nullopt;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            int status = 0;
            const ::pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                return exit_status_;
            }
            if (r < 0 && errno != EINTR) {
                exit_status_ = -1;
                return exit_status_;
            }
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
    }

    /// Asks the child to stop (SIGTERM), waits up to `grace`, then kills it;
    /// returns its exit status (-1 when a signal ended it).
    int terminate(std::chrono::milliseconds grace = std::chrono::milliseconds{3000}) {
        if (exit_status_) return *exit_status_;
        if (pid_ <= 0) return -1;
        ::kill(pid_, SIGTERM);
        if (auto s = wait_for(grace)) return *s;
        ::kill(pid_, SIGKILL);
        if (auto s = wait_for(std::chrono::milliseconds{5000})) return *s;
        return -1;
    }

private:
    ::pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string pending_;
    std::optional<int> exit_status_;
};

}  // namespace devflow_test
