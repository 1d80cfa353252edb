// devflow — file_store: the default token store, one private file per key
// (docs/storage.md). Declarations here; definitions in impl/file_store.hpp.
//
// Security (docs/design.md §3): records are files of mode 0600 in a directory of
// mode 0700; every save writes a temporary file, fsyncs it, renames it over
// the record and fsyncs the directory, so a reader sees the old record or the
// new one, never half. A record that is not a regular file owned by this user
// with no group/other permission bits is not trusted: it is set aside with a
// warning and reads as absent. Warnings and errors name paths, never contents.
#pragma once

#include <devflow/error.hpp>
#include <devflow/secret.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace devflow {

/// What read_private_file() found at a path.
struct private_file {
    /// How the read went.
    enum class outcome {
        absent,   ///< nothing there
        ok,       ///< read; `bytes` holds the contents
        refused,  ///< something is there but it is not trusted; `reason` says why
    };
    outcome result = outcome::absent;
    secret bytes;        ///< the contents, when ok
    std::string reason;  ///< e.g. "is a symbolic link", "is accessible to other users (mode 0644)"
};

/// Reads a file the way file_store reads a record (docs/storage.md): never
/// through a symbolic link, never blocking on a FIFO, and only when it is a
/// regular file owned by this user with no group or other permission bits and
/// at most `max_size` bytes. Anything else is `refused` with a reason that
/// names no contents. Used for every file devflow trusts: records, the CLI's
/// remembered settings and profiles.
/// @throws devflow::error errc::storage_failed on an I/O failure
[[nodiscard]] inline private_file read_private_file(const std::filesystem::path& file,
                                                    std::size_t max_size);

/// Replaces `target` with `bytes` atomically, as file_store saves a record:
/// a new 0600 file written, synced and renamed over the old one.
/// @throws devflow::error errc::storage_failed (message: path and system error only)
inline void write_private_file(const std::filesystem::path& target, std::string_view bytes);

namespace detail {

/// Replaces `target` with `bytes` atomically: writes a new 0600 temporary file
/// in the same directory (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC), fsyncs it,
/// renames it over `target` and fsyncs the directory. A reader sees the old
/// contents or the new, never a mix. The directory must exist.
/// @throws devflow::error errc::storage_failed (message: path and system error only)
inline void atomic_write_file(const std::filesystem::path& target, std::string_view bytes);

/// Flushes a directory's entries (a rename or unlink in it) to disk.
/// @throws devflow::error errc::storage_failed
inline void fsync_directory(const std::filesystem::path& directory);

}  // namespace detail

/// Models devflow::token_store, devflow::lockable_store and
/// devflow::quarantining_store with private files (docs/storage.md).
/// Thread-safe: it keeps no mutable state of its own.
class file_store {
public:
    /// Receives one warning line (without the "devflow: warning: " prefix or
    /// a newline). Warnings name paths, never record contents.
    using warning_sink = std::function<void(std::string_view)>;

    /// Records larger than this are not trusted.
    static constexpr std::size_t max_record_size = std::size_t{1} << 20;

    /// How long lock() waits for another holder by default: long enough to
    /// wait out another process's sign-in (device codes live 10 to 15 minutes
    /// at common servers), after which a stuck holder is reported.
    static constexpr std::chrono::milliseconds default_lock_timeout{std::chrono::minutes{15}};

    /// Holds an exclusive flock(2) on a key's lock file until destroyed (or
    /// unlock()); movable, not copyable. Excludes other processes and other
    /// file_store objects in this one; not recursive.
    class key_lock {
    public:
        /// A key_lock that holds nothing.
        key_lock() noexcept = default;
        key_lock(key_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
        key_lock& operator=(key_lock&& other) noexcept;
        key_lock(const key_lock&) = delete;
        key_lock& operator=(const key_lock&) = delete;
        ~key_lock() { unlock(); }

        /// True while this object holds the lock.
        [[nodiscard]] bool owns_lock() const noexcept { return fd_ >= 0; }

        /// Releases the lock early; does nothing when none is held.
        void unlock() noexcept;

    private:
        friend class file_store;
        explicit key_lock(int fd) noexcept : fd_(fd) {}
        int fd_ = -1;
    };

    /// Directory mode in default_directory(), warnings to stderr.
    /// @throws devflow::error errc::storage_failed when no home directory is known
    file_store();

    /// Directory mode in `directory`. A directory devflow creates gets mode
    /// 0700; an existing one is checked, never changed: it must belong to this
    /// user (or root) and must not be writable by other users unless it has
    /// the sticky bit. An empty `warn` means stderr.
    explicit file_store(std::filesystem::path directory, warning_sink warn = {});

    /// Single-file mode: every key maps to `file` (e.g. a `.tokens.json` beside
    /// a script); the caller checks which key a record belongs to. The file's
    /// directory is created (0700) if missing; an existing one is checked as
    /// in directory mode and never changed.
    /// @throws devflow::error errc::invalid_config when `file` names no file
    [[nodiscard]] static file_store single_file(std::filesystem::path file,
                                                warning_sink warn = {});

    /// $XDG_STATE_HOME/devflow if that is an absolute path, else
    /// $HOME/.local/state/devflow (the password database's home if $HOME is unset).
    /// @throws devflow::error errc::storage_failed when no home directory is known
    [[nodiscard]] static std::filesystem::path default_directory();

    /// The default warning sink: one line "devflow: warning: ..." on stderr.
    static void warn_to_stderr(std::string_view message);

    /// The record under `key`, or std::nullopt when there is none or it is not
    /// trusted (then it is set aside as "<file>.untrusted-<time>" with a warning).
    /// @throws devflow::error errc::storage_failed on an I/O failure
    [[nodiscard]] std::optional<secret> load(std::string_view key) const;

    /// Atomically replaces the record under `key` with `record` (mode 0600).
    /// Temporary files of this record left by a writer that has died (a kill
    /// in the middle of a save) are removed first.
    /// @throws devflow::error errc::storage_failed on an I/O failure
    void save(std::string_view key, const secret& record) const;

    /// Removes the record under `key` and every file that belongs to it: its
    /// lock file, records set aside as corrupt or untrusted, and temporary
    /// files of writers that are gone. A missing record is fine.
    /// @throws devflow::error errc::storage_failed on an I/O failure
    void erase(std::string_view key) const;

    /// Moves the record under `key` aside as "<file>.corrupt-<unix time>[-n]"
    /// with a warning, so it reads as absent; returns where it went, or
    /// std::nullopt when there was no record.
    /// @throws devflow::error errc::storage_failed when it cannot be moved
    std::optional<std::filesystem::path> set_aside(std::string_view key) const;

    /// Waits until this object holds an exclusive lock on `key` ("<file>.lock").
    /// The lock file is checked like a record (a regular file of this user,
    /// mode 0600, never a symbolic link). The wait ends when `stop` is
    /// requested (errc::cancelled) or after lock_timeout() (errc::storage_failed
    /// naming the lock file); after two seconds of waiting one warning says who
    /// is being waited for.
    /// @throws devflow::error errc::storage_failed or errc::cancelled
    [[nodiscard]] key_lock lock(std::string_view key, std::stop_token stop = {}) const;

    /// Takes the lock on `key` if it is free; std::nullopt when another holder has it.
    /// @throws devflow::error errc::storage_failed on an I/O failure
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key) const;

    /// The file that holds the record for `key`: in directory mode the first
    /// 32 hex digits of SHA-256(key) + ".json"; in single-file mode the file.
    [[nodiscard]] std::filesystem::path path_for(std::string_view key) const;

    /// True in single-file mode.
    [[nodiscard]] bool is_single_file() const noexcept { return single_file_; }

    /// How long lock() waits for another holder (default_lock_timeout unless set).
    [[nodiscard]] std::chrono::milliseconds lock_timeout() const noexcept { return lock_timeout_; }
    /// Sets how long lock() waits for another holder before it fails.
    /// @throws devflow::error errc::invalid_config when `timeout` is negative
    void set_lock_timeout(std::chrono::milliseconds timeout);

private:
    file_store(std::filesystem::path location, bool single, warning_sink warn);

    void warn(const std::string& message) const;
    void prepare_directory() const;
    std::filesystem::path record_directory() const;
    std::optional<key_lock> acquire(std::string_view key, bool wait, std::stop_token stop) const;
    void set_aside_untrusted(const std::filesystem::path& file, const std::string& why) const;

    std::filesystem::path location_;  // the directory, or the file in single-file mode
    bool single_file_ = false;
    warning_sink warn_;
    std::chrono::milliseconds lock_timeout_ = default_lock_timeout;
};

}  // namespace devflow

#include <devflow/impl/file_store.hpp>
