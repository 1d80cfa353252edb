// devflow — file_store: the default token store, one private file per key
// (docs/storage.md). Declarations here; definitions in impl/file_store.ipp.
//
// Security (DESIGN.md §4): records are files of mode 0600 in a directory of
// mode 0700; every save writes a temporary file, fsyncs it, renames it over
// the record and fsyncs the directory, so a reader sees the old record or the
// new one, never half. A record that is not a regular file owned by this user
// with no group/other permission bits is not trusted: it is set aside with a
// warning and reads as absent. Warnings and errors name paths, never contents.
#pragma once

#include <devflow/error.hpp>
#include <devflow/secret.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace devflow {

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

    /// Directory mode in `directory` (created 0700 on first write; tightened to
    /// 0700 if other users can access it). An empty `warn` means stderr.
    explicit file_store(std::filesystem::path directory, warning_sink warn = {});

    /// Single-file mode: every key maps to `file` (e.g. a `.tokens.json` beside
    /// a script); the caller checks which key a record belongs to. The file's
    /// directory is created if missing but its mode is never changed.
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
    /// @throws devflow::error errc::storage_failed on an I/O failure
    void save(std::string_view key, const secret& record) const;

    /// Removes the record under `key`; a missing record is fine.
    /// @throws devflow::error errc::storage_failed on an I/O failure
    void erase(std::string_view key) const;

    /// Moves the record under `key` aside as "<file>.corrupt-<unix time>[-n]"
    /// with a warning, so it reads as absent; returns where it went, or
    /// std::nullopt when there was no record.
    /// @throws devflow::error errc::storage_failed when it cannot be moved
    std::optional<std::filesystem::path> set_aside(std::string_view key) const;

    /// Blocks until this object holds an exclusive lock on `key` ("<file>.lock").
    /// @throws devflow::error errc::storage_failed on an I/O failure
    [[nodiscard]] key_lock lock(std::string_view key) const;

    /// Takes the lock on `key` if it is free; std::nullopt when another holder has it.
    /// @throws devflow::error errc::storage_failed on an I/O failure
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key) const;

    /// The file that holds the record for `key`: in directory mode the first
    /// 32 hex digits of SHA-256(key) + ".json"; in single-file mode the file.
    [[nodiscard]] std::filesystem::path path_for(std::string_view key) const;

    /// True in single-file mode.
    [[nodiscard]] bool is_single_file() const noexcept { return single_file_; }

private:
    file_store(std::filesystem::path location, bool single, warning_sink warn);

    void warn(const std::string& message) const;
    void prepare_directory() const;
    std::filesystem::path record_directory() const;
    std::optional<key_lock> acquire(std::string_view key, bool wait) const;
    void set_aside_untrusted(const std::filesystem::path& file, const std::string& why) const;

    std::filesystem::path location_;  // the directory, or the file in single-file mode
    bool single_file_ = false;
    warning_sink warn_;
};

}  // namespace devflow

#include <devflow/impl/file_store.ipp>
