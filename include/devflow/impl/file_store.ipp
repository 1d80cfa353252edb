// devflow — definitions of file_store (include <devflow/file_store.hpp>, not this).
#pragma once

#include <devflow/detail/sha256.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/secret.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <pwd.h>
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
        // DESIGN.md §4: a fresh private file, never through a symlink.
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
    // DESIGN.md §4: rename over the record, so readers see old or new, never half.
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

}  // namespace detail

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
    if (detail::create_directories_0700(dir) || single_file_) return;
    // DESIGN.md §4: our own directory is 0700. (A single file's directory is
    // the user's, e.g. a script's folder: never touched.)
    struct ::stat st {};
    if (::stat(dir.c_str(), &st) != 0) detail::throw_storage("cannot inspect directory", dir, errno);
    if (st.st_uid != ::geteuid())
        detail::throw_error(errc::storage_failed,
                            "devflow file_store: directory " + dir.string() +
                                " belongs to another user; not storing tokens there");
    if ((st.st_mode & 077) != 0) {
        if (::chmod(dir.c_str(), 0700) != 0)
            detail::throw_storage("cannot set the mode of", dir, errno);
        warn("directory " + dir.string() + " was accessible to other users (mode " +
             detail::mode_text(st.st_mode) + "); its mode is now 0700");
    }
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
    // O_NONBLOCK: a FIFO planted at the path must not hang us.
    detail::unique_fd fd(
        ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        const int e = errno;
        if (e == ENOENT || e == ENOTDIR) return std::nullopt;
        if (e == ELOOP || e == EMLINK) {  // EMLINK: FreeBSD's O_NOFOLLOW answer
            set_aside_untrusted(file, "is a symbolic link");
            return std::nullopt;
        }
        detail::throw_storage("cannot open token record", file, e);
    }
    struct ::stat st {};
    if (::fstat(fd.get(), &st) != 0) detail::throw_storage("cannot inspect token record", file, errno);

    // DESIGN.md §4: a foreign or exposed record is set aside, never trusted silently.
    std::string why;
    if (!S_ISREG(st.st_mode))
        why = "is not a regular file";
    else if (st.st_uid != ::geteuid())
        why = "belongs to another user (uid " + std::to_string(st.st_uid) + ")";
    else if ((st.st_mode & 077) != 0)
        why = "is accessible to other users (mode " + detail::mode_text(st.st_mode) + ")";
    else if (static_cast<unsigned long long>(st.st_size) > max_record_size)
        why = "is larger than " + std::to_string(max_record_size) + " bytes";
    if (!why.empty()) {
        // An exposed record of ours is at least made private where it is kept.
        if (S_ISREG(st.st_mode) && st.st_uid == ::geteuid()) ::fchmod(fd.get(), 0600);
        fd.reset();
        set_aside_untrusted(file, why);
        return std::nullopt;
    }

    // Sized once, so no reallocation leaves a copy of the record behind.
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ::ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            detail::wipe(bytes);
            detail::throw_storage("cannot read token record", file, e);
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    secret record(std::move(bytes));
    detail::wipe(bytes);  // a moved-from short string may keep its bytes inline
    return record;
}

inline void file_store::save(std::string_view key, const secret& record) const {
    prepare_directory();
    detail::atomic_write_file(path_for(key), record.reveal());
}

inline void file_store::erase(std::string_view key) const {
    const std::filesystem::path file = path_for(key);
    if (::unlink(file.c_str()) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return;
        detail::throw_storage("cannot remove token record", file, errno);
    }
    detail::fsync_directory(record_directory());
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

inline std::optional<file_store::key_lock> file_store::acquire(std::string_view key,
                                                               bool wait) const {
    prepare_directory();
    std::filesystem::path lock_file = path_for(key);
    lock_file += ".lock";
    detail::unique_fd fd(
        ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (fd.get() < 0) detail::throw_storage("cannot open lock file", lock_file, errno);
    struct ::stat st {};
    if (::fstat(fd.get(), &st) != 0) detail::throw_storage("cannot inspect lock file", lock_file, errno);
    if (!S_ISREG(st.st_mode))
        detail::throw_error(errc::storage_failed, "devflow file_store: lock file " +
                                                      lock_file.string() +
                                                      " is not a regular file");
    const int operation = wait ? LOCK_EX : (LOCK_EX | LOCK_NB);
    while (::flock(fd.get(), operation) != 0) {
        if (errno == EINTR) continue;
        if (!wait && errno == EWOULDBLOCK) return std::nullopt;
        detail::throw_storage("cannot lock", lock_file, errno);
    }
    return key_lock(fd.release());
}

inline file_store::key_lock file_store::lock(std::string_view key) const {
    return std::move(*acquire(key, true));
}

inline std::optional<file_store::key_lock> file_store::try_lock(std::string_view key) const {
    return acquire(key, false);
}

}  // namespace devflow
