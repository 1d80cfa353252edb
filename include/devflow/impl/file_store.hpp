// devflow — definitions of file_store (include <devflow/file_store.hpp>, not this).
#pragma once

#include <devflow/detail/sha256.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/secret.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace devflow {

namespace detail {

/// The text of a system error number (thread-safe, unlike strerror).
inline std::string system_message(int error_number) {
    return std::generic_category().message(error_number);
}

/// Throws errc::storage_failed with "<what> <path>: <system error>".
[[noreturn]] inline void throw_storage(const std::string& what, const std::filesystem::path& path,
                                       int error_number) {
    throw_error(errc::storage_failed,
                "devflow file_store: " + what + " " + path.string() + ": " +
                    system_message(error_number));
}

/// Owns one file descriptor; closes it when destroyed.
class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = other.release();
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

/// The directory a file lives in ("." for a bare file name).
inline std::filesystem::path directory_of(const std::filesystem::path& file) {
    std::filesystem::path parent = file.parent_path();
    return parent.empty() ? std::filesystem::path(".") : parent;
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes; returns
/// 0 or the error number.
inline int write_all(int fd, std::string_view bytes) noexcept {
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ::ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return 0;
}

/// fsync(2), retrying on EINTR; returns 0 or the error number.
inline int fsync_retry(int fd) noexcept {
    while (::fsync(fd) != 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

inline void fsync_directory(const std::filesystem::path& directory) {
    unique_fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) throw_storage("cannot open directory", directory, errno);
    const int e = fsync_retry(fd.get());
    // Some file systems cannot fsync a directory (EINVAL); the rename is still done.
    if (e != 0 && e != EINVAL && e != ENOTSUP) throw_storage("cannot sync directory", directory, e);
}

inline void atomic_write_file(const std::filesystem::path& target, std::string_view bytes) {
    static std::atomic<unsigned long> counter{0};
    const std::filesystem::path dir = directory_of(target);
    const std::string name = target.filename().string();

    std::filesystem::path temp;
    unique_fd fd;
    for (int attempt = 0; attempt < 100 && fd.get() < 0; ++attempt) {
        const auto stamp = static_cast<unsigned long long>(
            std::chrono::steady_clock::now().time_since_epoch().count());
        temp = dir / ("." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
                      std::to_string(counter.fetch_add(1)) + "-" + std::to_string(stamp % 1000000));
        // docs/design.md §3: a fresh private file, never through a symlink.
        fd = unique_fd(
            ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd.get() < 0 && errno != EEXIST) throw_storage("cannot create temporary file", temp, errno);
    }
    if (fd.get() < 0) throw_storage("cannot create temporary file", temp, EEXIST);

    // From here on, a failure removes the temporary file before throwing.
    auto fail = [&](const std::string& what, const std::filesystem::path& where, int e) {
        fd.reset();
        ::unlink(temp.c_str());
        throw_storage(what, where, e);
    };
    if (::fchmod(fd.get(), 0600) != 0) fail("cannot set the mode of", temp, errno);
    if (const int e = write_all(fd.get(), bytes)) fail("cannot write", temp, e);
    if (const int e = fsync_retry(fd.get())) fail("cannot sync", temp, e);
    if (::close(fd.release()) != 0) fail("cannot close", temp, errno);
    // docs/design.md §3: rename over the record, so readers see old or new, never half.
    if (::rename(temp.c_str(), target.c_str()) != 0) fail("cannot replace", target, errno);
    fsync_directory(dir);
}

/// Creates `dir` and any missing parents with mode 0700; existing ones are
/// left as they are. Returns true when `dir` itself was created.
inline bool create_directories_0700(const std::filesystem::path& dir) {
    struct ::stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) throw_storage("cannot use directory", dir, ENOTDIR);
        return false;
    }
    if (errno != ENOENT) throw_storage("cannot inspect directory", dir, errno);
    const std::filesystem::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir) create_directories_0700(parent);
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (errno == EEXIST) return false;
        throw_storage("cannot create directory", dir, errno);
    }
    // The umask can only remove bits; make the mode exactly 0700.
    if (::chmod(dir.c_str(), 0700) != 0) throw_storage("cannot set the mode of", dir, errno);
    return true;
}

/// "<file>.<tag>-<unix time>", with "-<n>" added until no such entry exists.
inline std::filesystem::path aside_name(const std::filesystem::path& file, const char* tag) {
    const std::string base =
        file.string() + "." + tag + "-" + std::to_string(static_cast<long long>(std::time(nullptr)));
    std::string candidate = base;
    struct ::stat st {};
    for (int n = 1; ::lstat(candidate.c_str(), &st) == 0; ++n)
        candidate = base + "-" + std::to_string(n);
    return candidate;
}

/// The text of a file mode's permission bits, e.g. "0644".
inline std::string mode_text(::mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

/// Why a file with status `st` may not be trusted to hold a secret, or ""
/// when it may: a regular file of this user with no group or other bits, at
/// most `max_size` bytes (0: any size).
inline std::string untrusted_file_reason(const struct ::stat& st, std::size_t max_size) {
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (st.st_uid != ::geteuid())
        return "belongs to another user (uid " + std::to_string(st.st_uid) + ")";
    if ((st.st_mode & 077) != 0)
        return "is accessible to other users (mode " + mode_text(st.st_mode) + ")";
    if (max_size != 0 && static_cast<unsigned long long>(st.st_size) > max_size)
        return "is larger than " + std::to_string(max_size) + " bytes";
    return {};
}

/// Why devflow may not keep files in the existing directory `dir`, or "" when
/// it may: it must belong to this user (or root, as a home's parent does) and
/// other users may not replace files in it (no write bit for group-less
/// others unless the sticky bit protects each file, as in /tmp).
inline std::string unusable_directory_reason(const struct ::stat& st) {
    if (!S_ISDIR(st.st_mode)) return "is not a directory";
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
        return "belongs to another user (uid " + std::to_string(st.st_uid) + ")";
    if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0)
        return "is writable by every user (mode " + mode_text(st.st_mode) +
               ") and has no sticky bit, so others could replace files in it";
    return {};
}

/// True when the process `pid` is known to be gone (kill(2) says ESRCH).
inline bool process_gone(long pid) noexcept {
    if (pid <= 0 || pid == static_cast<long>(::getpid())) return false;
    return ::kill(static_cast<::pid_t>(pid), 0) != 0 && errno == ESRCH;
}

/// The pid in a temporary file name ".<record>.tmp-<pid>-<n>-<stamp>" that
/// follows `prefix`, or -1.
inline long temp_writer_pid(std::string_view name, std::string_view prefix) noexcept {
    if (name.substr(0, prefix.size()) != prefix) return -1;
    name.remove_prefix(prefix.size());
    long pid = 0;
    std::size_t digits = 0;
    for (; digits < name.size() && name[digits] >= '0' && name[digits] <= '9' && digits < 10; ++digits)
        pid = pid * 10 + (name[digits] - '0');
    if (digits == 0 || digits >= name.size() || name[digits] != '-') return -1;
    return pid;
}

/// Removes the files beside `record` that belong to it: temporary files of
/// writers that are gone (and, when `all` is set, of this process too), and
/// with `all` also the records set aside and the lock file. Returns true when
/// anything was removed. Never throws: what cannot be removed stays.
inline bool remove_record_leftovers(const std::filesystem::path& record, bool all) noexcept {
    const std::filesystem::path dir = directory_of(record);
    const std::string name = record.filename().string();
    const std::string temp_prefix = "." + name + ".tmp-";
    const std::string corrupt_prefix = name + ".corrupt-";
    const std::string untrusted_prefix = name + ".untrusted-";
    bool removed = false;
    ::DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return false;
    while (const ::dirent* e = ::readdir(d)) {
        const std::string_view entry = e->d_name;
        bool remove = false;
        if (const long pid = temp_writer_pid(entry, temp_prefix); pid > 0)
            remove = process_gone(pid) || (all && pid == static_cast<long>(::getpid()));
        else if (all)
            remove = entry.substr(0, corrupt_prefix.size()) == corrupt_prefix ||
                     entry.substr(0, untrusted_prefix.size()) == untrusted_prefix ||
                     entry == name + ".lock";
        if (remove && ::unlinkat(::dirfd(d), e->d_name, 0) == 0) removed = true;
    }
    ::closedir(d);
    return removed;
}

/// Sleeps for `d`, or less when `stop` is requested.
inline void sleep_unless_stopped(std::chrono::milliseconds d, const std::stop_token& stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
}

}  // namespace detail

inline private_file read_private_file(const std::filesystem::path& file, std::size_t max_size) {
    private_file out;
    // O_NONBLOCK: a FIFO planted at the path must not hang us.
    detail::unique_fd fd(
        ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        const int e = errno;
        if (e == ENOENT || e == ENOTDIR) return out;
        if (e == ELOOP || e == EMLINK) {  // EMLINK: FreeBSD's O_NOFOLLOW answer
            out.result = private_file::outcome::refused;
            out.reason = "is a symbolic link";
            return out;
        }
        detail::throw_storage("cannot open", file, e);
    }
    struct ::stat st {};
    if (::fstat(fd.get(), &st) != 0) detail::throw_storage("cannot inspect", file, errno);
    // docs/design.md: a foreign or exposed file is never trusted silently.
    if (std::string why = detail::untrusted_file_reason(st, max_size); !why.empty()) {
        out.result = private_file::outcome::refused;
        out.reason = std::move(why);
        return out;
    }
    // Sized once, so no reallocation leaves a copy of the contents behind.
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ::ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            detail::wipe(bytes);
            detail::throw_storage("cannot read", file, e);
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    out.bytes = secret(std::move(bytes));
    detail::wipe(bytes);  // a moved-from short string may keep its bytes inline
    out.result = private_file::outcome::ok;
    return out;
}

inline void write_private_file(const std::filesystem::path& target, std::string_view bytes) {
    detail::atomic_write_file(target, bytes);
}

// ---------------------------------------------------------------- key_lock

inline file_store::key_lock& file_store::key_lock::operator=(key_lock&& other) noexcept {
    if (this != &other) {
        unlock();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

inline void file_store::key_lock::unlock() noexcept {
    if (fd_ < 0) return;
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
}

// ---------------------------------------------------------------- file_store

inline file_store::file_store() : file_store(default_directory(), false, {}) {}

inline file_store::file_store(std::filesystem::path directory, warning_sink warn)
    : file_store(std::move(directory), false, std::move(warn)) {}

inline file_store::file_store(std::filesystem::path location, bool single, warning_sink warn)
    : location_(std::move(location)), single_file_(single), warn_(std::move(warn)) {
    // "dir/" names the same directory as "dir".
    if (!single_file_ && !location_.has_filename() && location_.has_relative_path())
        location_ = location_.parent_path();
}

inline file_store file_store::single_file(std::filesystem::path file, warning_sink warn) {
    if (!file.has_filename())
        detail::throw_error(errc::invalid_config,
                            "devflow file_store: single-file mode needs a file name, got " +
                                file.string());
    return file_store(std::move(file), true, std::move(warn));
}

inline std::filesystem::path file_store::default_directory() {
    // XDG Base Directory: a relative $XDG_STATE_HOME is invalid and ignored.
    if (const char* state = std::getenv("XDG_STATE_HOME");
        state != nullptr && state[0] == '/')
        return std::filesystem::path(state) / "devflow";
    std::string home;
    if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') {
        home = h;
    } else {
        struct ::passwd pw {};
        struct ::passwd* found = nullptr;
        char buf[4096];
        if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr &&
            found->pw_dir != nullptr && found->pw_dir[0] == '/')
            home = found->pw_dir;
    }
    if (home.empty())
        detail::throw_error(errc::storage_failed,
                            "devflow file_store: no home directory (set XDG_STATE_HOME or HOME)");
    return std::filesystem::path(home) / ".local" / "state" / "devflow";
}

inline void file_store::warn_to_stderr(std::string_view message) {
    std::string line = "devflow: warning: ";
    line.append(message);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

inline void file_store::warn(const std::string& message) const {
    if (warn_)
        warn_(message);
    else
        warn_to_stderr(message);
}

inline std::filesystem::path file_store::path_for(std::string_view key) const {
    if (single_file_) return location_;
    // A short, fixed-alphabet name: the key itself may hold any bytes.
    return location_ / (detail::sha256_hex(key).substr(0, 32) + ".json");
}

inline std::filesystem::path file_store::record_directory() const {
    return single_file_ ? detail::directory_of(location_) : location_;
}

inline void file_store::prepare_directory() const {
    const std::filesystem::path dir = record_directory();
    // Only a directory devflow creates gets mode 0700; an existing one (the
    // user's own, e.g. `--cache .`) is checked and never changed.
    if (detail::create_directories_0700(dir)) return;
    struct ::stat st {};
    if (::stat(dir.c_str(), &st) != 0) detail::throw_storage("cannot inspect directory", dir, errno);
    if (std::string why = detail::unusable_directory_reason(st); !why.empty())
        detail::throw_error(errc::storage_failed, "devflow file_store: directory " + dir.string() +
                                                      " " + why + "; not storing tokens there");
}

inline void file_store::set_lock_timeout(std::chrono::milliseconds timeout) {
    if (timeout.count() < 0)
        detail::throw_error(errc::invalid_config, "devflow file_store: the lock timeout is negative");
    lock_timeout_ = timeout;
}

inline void file_store::set_aside_untrusted(const std::filesystem::path& file,
                                            const std::string& why) const {
    const std::filesystem::path aside = detail::aside_name(file, "untrusted");
    if (::rename(file.c_str(), aside.c_str()) != 0) {
        const int e = errno;
        warn("token record " + file.string() + " " + why +
             "; not trusted and treated as absent (could not set it aside: " +
             detail::system_message(e) + ")");
        return;
    }
    try {
        detail::fsync_directory(detail::directory_of(file));
    } catch (const devflow::error&) {
        // The rename is done; durability of the move does not matter here.
    }
    warn("token record " + file.string() + " " + why + "; not trusted, set aside as " +
         aside.string() + " and treated as absent");
}

inline std::optional<secret> file_store::load(std::string_view key) const {
    const std::filesystem::path file = path_for(key);
    private_file found = read_private_file(file, max_record_size);
    if (found.result == private_file::outcome::absent) return std::nullopt;
    if (found.result == private_file::outcome::refused) {
        // docs/design.md: a foreign or exposed record is set aside, never trusted
        // silently. An exposed record of ours is at least made private first.
        struct ::stat st {};
        if (::lstat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid())
            ::chmod(file.c_str(), 0600);
        set_aside_untrusted(file, found.reason);
        return std::nullopt;
    }
    return std::move(found.bytes);
}

inline void file_store::save(std::string_view key, const secret& record) const {
    prepare_directory();
    const std::filesystem::path file = path_for(key);
    // A writer killed in the middle of a save leaves a 0600 temporary file
    // holding tokens; nobody else would ever remove it.
    detail::remove_record_leftovers(file, /*all=*/false);
    detail::atomic_write_file(file, record.reveal());
}

inline void file_store::erase(std::string_view key) const {
    const std::filesystem::path file = path_for(key);
    bool removed = ::unlink(file.c_str()) == 0;
    if (!removed && errno != ENOENT && errno != ENOTDIR)
        detail::throw_storage("cannot remove token record", file, errno);
    // Everything else that holds (or held) this record's tokens goes too. The
    // lock file may go while it is held: lock() takes a lock only on the file
    // that is at the path when it gets it.
    removed = detail::remove_record_leftovers(file, /*all=*/true) || removed;
    if (removed) detail::fsync_directory(record_directory());
}

inline std::optional<std::filesystem::path> file_store::set_aside(std::string_view key) const {
    const std::filesystem::path file = path_for(key);
    struct ::stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        detail::throw_storage("cannot inspect token record", file, errno);
    }
    const std::filesystem::path aside = detail::aside_name(file, "corrupt");
    if (::rename(file.c_str(), aside.c_str()) != 0)
        detail::throw_storage("cannot set aside token record", file, errno);
    detail::fsync_directory(record_directory());
    warn("token record " + file.string() + " could not be used; set aside as " + aside.string() +
         " and treated as absent");
    return aside;
}

inline std::optional<file_store::key_lock> file_store::acquire(std::string_view key, bool wait,
                                                               std::stop_token stop) const {
    prepare_directory();
    std::filesystem::path lock_file = path_for(key);
    lock_file += ".lock";
    const auto started = std::chrono::steady_clock::now();
    std::chrono::milliseconds pause{1};
    bool told = false;
    for (;;) {
        detail::unique_fd fd(
            ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
        if (fd.get() < 0) {
            if (errno == ELOOP || errno == EMLINK)
                detail::throw_error(errc::storage_failed, "devflow file_store: lock file " +
                                                              lock_file.string() +
                                                              " is a symbolic link; remove it");
            detail::throw_storage("cannot open lock file", lock_file, errno);
        }
        struct ::stat st {};
        if (::fstat(fd.get(), &st) != 0)
            detail::throw_storage("cannot inspect lock file", lock_file, errno);
        // Checked like a record: another user's lock file would let them block
        // every command of ours for as long as they hold it.
        if (std::string why = detail::untrusted_file_reason(st, 0); !why.empty())
            detail::throw_error(errc::storage_failed, "devflow file_store: lock file " +
                                                          lock_file.string() + " " + why +
                                                          "; remove it");
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            // The file may have been removed (erase) or replaced while we
            // waited: the lock counts only on the file that is at the path.
            struct ::stat now {};
            if (::lstat(lock_file.c_str(), &now) == 0 && now.st_ino == st.st_ino &&
                now.st_dev == st.st_dev)
                return key_lock(fd.release());
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) detail::throw_storage("cannot lock", lock_file, errno);
        if (!wait) return std::nullopt;
        fd.reset();
        const auto waited = std::chrono::steady_clock::now() - started;
        if (stop.stop_requested())
            detail::throw_error(errc::cancelled, "devflow file_store: the wait for lock file " +
                                                     lock_file.string() + " was cancelled");
        if (waited >= lock_timeout_)
            detail::throw_error(
                errc::storage_failed,
                "devflow file_store: lock file " + lock_file.string() +
                    " has been held by another process for more than " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(lock_timeout_).count()) +
                    " s; if no devflow process is running, remove it");
        if (!told && waited >= std::chrono::seconds{2}) {
            told = true;
            warn("waiting for another process that holds lock file " + lock_file.string() +
                 " (a sign-in or refresh in progress?)");
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lock_timeout_ - waited);
        detail::sleep_unless_stopped(std::min(pause, left + std::chrono::milliseconds{1}), stop);
        pause = std::min(pause * 2, std::chrono::milliseconds{50});
    }
}

inline file_store::key_lock file_store::lock(std::string_view key, std::stop_token stop) const {
    return std::move(*acquire(key, true, std::move(stop)));
}

inline std::optional<file_store::key_lock> file_store::try_lock(std::string_view key) const {
    return acquire(key, false, {});
}

}  // namespace devflow
