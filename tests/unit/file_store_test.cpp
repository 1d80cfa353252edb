// file_store: private files, atomic replacement, untrusted records set aside,
// cross-process locks (docs/design.md §3, docs/storage.md). Also the SHA-256 that
// names the files (FIPS 180-4 test vectors).
#include <devflow/concepts.hpp>
#include <devflow/detail/sha256.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>

#include "catch.hpp"
#include "store_lock_checks.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <stop_token>
#include <iterator>
#include <optional>
#include <string>
#include <latch>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static_assert(devflow::token_store<devflow::file_store>);
static_assert(devflow::lockable_store<devflow::file_store>);
static_assert(devflow::quarantining_store<devflow::file_store>);

namespace {

namespace fs = std::filesystem;

// Secrets in these tests are canaries: no warning or error may ever contain one.
constexpr const char* canary = "CANARY-file-store-record-5b1e9d";
constexpr const char* canary_two = "CANARY-file-store-second-c07a42";

/// A fresh directory for one test, removed afterwards.
struct temp_dir : devflow_test::temp_dir {
    temp_dir() : devflow_test::temp_dir("devflow-file-store") {}
};

/// Collects warnings instead of printing them.
struct warning_log {
    std::vector<std::string> lines;
    devflow::file_store::warning_sink sink() {
        return [this](std::string_view line) { lines.emplace_back(line); };
    }
    [[nodiscard]] bool mentions(std::string_view text) const {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& l) { return l.find(text) != std::string::npos; });
    }
};

/// Sets the process umask for one scope.
class umask_scope {
public:
    explicit umask_scope(::mode_t mask) : old_(::umask(mask)) {}
    umask_scope(const umask_scope&) = delete;
    umask_scope& operator=(const umask_scope&) = delete;
    ~umask_scope() { ::umask(old_); }

private:
    ::mode_t old_;
};

/// Sets (or unsets, with std::nullopt) an environment variable for one scope.
class env_scope {
public:
    env_scope(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) old_ = old;
        if (value)
            ::setenv(name_.c_str(), value->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }
    env_scope(const env_scope&) = delete;
    env_scope& operator=(const env_scope&) = delete;
    ~env_scope() {
        if (old_)
            ::setenv(name_.c_str(), old_->c_str(), 1);
        else
            ::unsetenv(name_.c_str());
    }

private:
    std::string name_;
    std::optional<std::string> old_;
};

::mode_t mode_of(const fs::path& p) {
    struct ::stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& bytes, ::mode_t mode) {
    {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << bytes;
    }
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

/// Names of the entries of a directory, sorted.
std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

/// The entries of `dir` whose name starts with `prefix`.
std::vector<fs::path> entries_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind(prefix, 0) == 0) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    return found;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------- SHA-256

TEST_CASE("sha256 matches the FIPS 180-4 example digests", "[file_store][sha256]") {
    using devflow::detail::sha256_hex;
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                     "klmnopqrlmnopqrsmnopqrstnopqrstu") ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(sha256_hex(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 pads correctly around the 55 56 and 64 byte block boundaries", "[file_store][sha256]") {
    using devflow::detail::sha256_hex;
    // Reference digests computed with coreutils sha256sum.
    CHECK(sha256_hex(std::string(55, 'a')) ==
          "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    CHECK(sha256_hex(std::string(56, 'a')) ==
          "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    CHECK(sha256_hex(std::string(64, 'a')) ==
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("sha256 gives the same digest however the input is split", "[file_store][sha256]") {
    const std::string message(200, 'x');
    devflow::detail::sha256 whole;
    whole.update(message);
    devflow::detail::sha256 pieces;
    pieces.update(std::string_view(message).substr(0, 1));
    pieces.update(std::string_view(message).substr(1, 63));
    pieces.update(std::string_view(message).substr(64, 70));
    pieces.update(std::string_view(message).substr(134));
    CHECK(whole.finish() == pieces.finish());
}

// ---------------------------------------------------------------- layout and modes

TEST_CASE("file_store names a record by the first 32 hex digits of SHA-256 of its key", "[file_store]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    const std::string key = "https://issuer.example/realms/x client /../id openid";
    const fs::path p = store.path_for(key);
    CHECK(p.parent_path() == tmp.path());
    CHECK(p.filename().string() == devflow::detail::sha256_hex(key).substr(0, 32) + ".json");
    CHECK(store.path_for("another key") != p);
    CHECK_FALSE(store.is_single_file());
}

TEST_CASE("file_store writes records with mode 0600 in a 0700 directory", "[file_store]") {
    temp_dir tmp;
    umask_scope permissive(0);  // even a careless umask must not widen the modes
    const fs::path dir = tmp.path() / "state" / "devflow";
    warning_log log;
    const devflow::file_store store(dir, log.sink());

    store.save("k", devflow::secret(canary));

    CHECK(mode_of(tmp.path() / "state") == 0700);
    CHECK(mode_of(dir) == 0700);
    CHECK(mode_of(store.path_for("k")) == 0600);
    CHECK(read_file(store.path_for("k")) == canary);
    const std::optional<devflow::secret> loaded = store.load("k");
    REQUIRE(loaded);
    CHECK(loaded->reveal() == canary);
    CHECK(log.lines.empty());
}

TEST_CASE("an existing directory is checked and never chmod-ed and only a directory devflow "
          "creates gets 0700 (docs/security.md S1)",
          "[file_store][security]") {
    temp_dir tmp;
    // `--cache .` in a project folder: the user's directory keeps its mode.
    const fs::path project = tmp.path() / "project";
    REQUIRE(::mkdir(project.c_str(), 0700) == 0);
    REQUIRE(::chmod(project.c_str(), 0755) == 0);
    warning_log log;
    const devflow::file_store store(project, log.sink());
    store.save("k", devflow::secret(canary));
    CHECK(mode_of(project) == 0755);
    CHECK(mode_of(store.path_for("k")) == 0600);
    REQUIRE(store.load("k"));

    // A directory every user may write to (no sticky bit) is refused: others
    // could replace the files in it.
    const fs::path open_dir = tmp.path() / "open";
    REQUIRE(::mkdir(open_dir.c_str(), 0700) == 0);
    REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);
    try {
        devflow::file_store(open_dir, log.sink()).save("k", devflow::secret(canary));
        FAIL("a world-writable directory was used");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::storage_failed);
        CHECK(contains(e.what(), open_dir.string()));
        CHECK(contains(e.what(), "writable by every user"));
        CHECK_FALSE(contains(e.what(), canary));
    }
    CHECK(mode_of(open_dir) == 0777);
    CHECK(entries(open_dir).empty());

    // With the sticky bit (as /tmp has) nobody can replace another's files.
    const fs::path sticky = tmp.path() / "sticky";
    REQUIRE(::mkdir(sticky.c_str(), 0700) == 0);
    REQUIRE(::chmod(sticky.c_str(), 01777) == 0);
    devflow::file_store(sticky, log.sink()).save("k", devflow::secret(canary));
    CHECK(mode_of(sticky) == 01777);

    // A directory devflow creates is private.
    const fs::path created = tmp.path() / "a" / "b";
    devflow::file_store(created, log.sink()).save("k", devflow::secret(canary));
    CHECK(mode_of(created) == 0700);
    CHECK(mode_of(tmp.path() / "a") == 0700);
    CHECK(log.lines.empty());
}

TEST_CASE("file_store replaces a record by renaming a new file over it so readers never see half", "[file_store]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    store.save("k", devflow::secret(canary));
    const fs::path p = store.path_for("k");
    struct ::stat before {};
    REQUIRE(::stat(p.c_str(), &before) == 0);
    // A reader that opened the old record keeps reading all of it.
    const int reader = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(reader >= 0);

    store.save("k", devflow::secret(canary_two));

    struct ::stat after {};
    REQUIRE(::stat(p.c_str(), &after) == 0);
    CHECK(after.st_ino != before.st_ino);  // a new file, not the old one rewritten
    std::string old_bytes(64, '\0');
    const ::ssize_t n = ::read(reader, old_bytes.data(), old_bytes.size());
    ::close(reader);
    REQUIRE(n >= 0);
    old_bytes.resize(static_cast<std::size_t>(n));
    CHECK(old_bytes == canary);
    REQUIRE(store.load("k"));
    CHECK(store.load("k")->reveal() == canary_two);
    // No temporary file is left behind.
    CHECK(entries(tmp.path()) == std::vector<std::string>{p.filename().string()});
}

TEST_CASE("atomic_write_file removes its temporary file when the rename fails", "[file_store]") {
    temp_dir tmp;
    const fs::path target = tmp.path() / "occupied";
    REQUIRE(::mkdir(target.c_str(), 0700) == 0);
    write_file(target / "inside", "x", 0600);  // a non-empty directory cannot be renamed over

    try {
        devflow::detail::atomic_write_file(target, canary);
        FAIL("atomic_write_file replaced a non-empty directory");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::storage_failed);
        CHECK(contains(e.what(), target.string()));
        CHECK_FALSE(contains(e.what(), canary));
    }
    CHECK(entries(tmp.path()) == std::vector<std::string>{"occupied"});
}

TEST_CASE("file_store load finds nothing for a missing record and creates no directory", "[file_store]") {
    temp_dir tmp;
    const fs::path dir = tmp.path() / "not-yet";
    const devflow::file_store store(dir);
    CHECK_FALSE(store.load("k").has_value());
    CHECK_FALSE(fs::exists(dir));
}

// ---------------------------------------------------------------- untrusted and corrupt records

TEST_CASE("file_store set_aside moves a corrupt record away with a warning and it then reads as absent", "[file_store]") {
    temp_dir tmp;
    warning_log log;
    const devflow::file_store store(tmp.path(), log.sink());
    const fs::path p = store.path_for("k");

    CHECK_FALSE(store.set_aside("k").has_value());  // nothing there: nothing to do
    CHECK(log.lines.empty());

    store.save("k", devflow::secret(canary));
    const std::optional<fs::path> first = store.set_aside("k");
    REQUIRE(first);
    CHECK_FALSE(store.load("k").has_value());
    CHECK_FALSE(fs::exists(p));
    CHECK(contains(first->filename().string(), p.filename().string() + ".corrupt-"));
    CHECK(read_file(*first) == canary);  // kept for inspection

    store.save("k", devflow::secret(canary_two));
    const std::optional<fs::path> second = store.set_aside("k");
    REQUIRE(second);
    CHECK(*second != *first);  // a second one in the same second gets its own name
    CHECK(read_file(*first) == canary);
    CHECK(read_file(*second) == canary_two);

    REQUIRE(log.lines.size() == 2);
    CHECK(contains(log.lines[0], p.string()));
    CHECK(contains(log.lines[0], first->string()));
    CHECK_FALSE(log.mentions(canary));
    CHECK_FALSE(log.mentions(canary_two));
}

TEST_CASE("file_store does not trust a group-readable record and sets it aside with a warning", "[file_store]") {
    temp_dir tmp;
    warning_log log;
    const devflow::file_store store(tmp.path(), log.sink());
    store.save("k", devflow::secret(canary));
    const fs::path p = store.path_for("k");
    REQUIRE(::chmod(p.c_str(), 0640) == 0);

    CHECK_FALSE(store.load("k").has_value());

    CHECK_FALSE(fs::exists(p));
    const auto aside = entries_starting_with(tmp.path(), p.filename().string() + ".untrusted-");
    REQUIRE(aside.size() == 1);
    CHECK(read_file(aside[0]) == canary);
    CHECK(mode_of(aside[0]) == 0600);  // made private where it is kept
    REQUIRE(log.lines.size() == 1);
    CHECK(contains(log.lines[0], p.string()));
    CHECK(contains(log.lines[0], "0640"));
    CHECK_FALSE(log.mentions(canary));
}

TEST_CASE("file_store refuses to follow a symbolic link at the record path", "[file_store]") {
    temp_dir tmp;
    const fs::path elsewhere = tmp.path() / "elsewhere.json";
    write_file(elsewhere, canary, 0600);
    const fs::path dir = tmp.path() / "store";
    REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
    warning_log log;
    const devflow::file_store store(dir, log.sink());
    const fs::path p = store.path_for("k");
    fs::create_symlink(elsewhere, p);

    CHECK_FALSE(store.load("k").has_value());
    REQUIRE(log.lines.size() == 1);
    CHECK(contains(log.lines[0], p.string()));
    CHECK(contains(log.lines[0], "symbolic link"));
    CHECK_FALSE(log.mentions(canary));

    // A save replaces the path itself and never writes through a link.
    fs::create_symlink(elsewhere, p);
    store.save("k", devflow::secret(canary_two));
    CHECK(read_file(elsewhere) == canary);
    CHECK(fs::is_regular_file(fs::symlink_status(p)));
    CHECK(read_file(p) == canary_two);
}

TEST_CASE("file_store treats a FIFO at the record path as untrusted without blocking", "[file_store]") {
    temp_dir tmp;
    warning_log log;
    const devflow::file_store store(tmp.path(), log.sink());
    const fs::path p = store.path_for("k");
    REQUIRE(::mkfifo(p.c_str(), 0600) == 0);

    CHECK_FALSE(store.load("k").has_value());
    REQUIRE(log.lines.size() == 1);
    CHECK(contains(log.lines[0], "not a regular file"));
    CHECK_FALSE(fs::exists(fs::symlink_status(p)));
}

TEST_CASE("file_store does not trust a record that belongs to another user", "[file_store]") {
    if (::geteuid() != 0) {
        WARN("only root can give a file to another user: not tested as this user");
        return;
    }
    temp_dir tmp;
    warning_log log;
    const devflow::file_store store(tmp.path(), log.sink());
    store.save("k", devflow::secret(canary));
    const fs::path p = store.path_for("k");
    REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);  // nobody

    CHECK_FALSE(store.load("k").has_value());
    REQUIRE(log.lines.size() == 1);
    CHECK(contains(log.lines[0], "another user"));
    CHECK_FALSE(log.mentions(canary));
    CHECK(entries_starting_with(tmp.path(), p.filename().string() + ".untrusted-").size() == 1);
}

TEST_CASE("file_store does not trust a record larger than 1 MiB", "[file_store]") {
    temp_dir tmp;
    warning_log log;
    const devflow::file_store store(tmp.path(), log.sink());
    write_file(store.path_for("k"), std::string(devflow::file_store::max_record_size + 1, 'x'), 0600);

    CHECK_FALSE(store.load("k").has_value());
    REQUIRE(log.lines.size() == 1);
    CHECK(contains(log.lines[0], "larger than"));

    // Exactly at the cap is still fine.
    write_file(store.path_for("k"), std::string(devflow::file_store::max_record_size, 'y'), 0600);
    const auto loaded = store.load("k");
    REQUIRE(loaded);
    CHECK(loaded->size() == devflow::file_store::max_record_size);
}

TEST_CASE("file_store erase removes the record and accepts a missing one", "[file_store]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    store.save("k", devflow::secret(canary));
    store.save("other", devflow::secret(canary_two));

    store.erase("k");
    CHECK_FALSE(store.load("k").has_value());
    CHECK_FALSE(fs::exists(store.path_for("k")));
    REQUIRE(store.load("other"));
    CHECK(store.load("other")->reveal() == canary_two);
    CHECK_NOTHROW(store.erase("k"));
    CHECK_NOTHROW(devflow::file_store(tmp.path() / "missing-dir").erase("k"));
}

// ---------------------------------------------------------------- locks

TEST_CASE("file_store lock excludes a second lock until it is released", "[file_store]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    const devflow::file_store other(tmp.path());  // another object: another open file

    devflow_test::check_exclusive_key_locks(store, other);
    CHECK(mode_of(fs::path(store.path_for("k")) += ".lock") == 0600);
}

TEST_CASE("file_store lock excludes another process", "[file_store]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    fs::path lock_file = store.path_for("k");
    lock_file += ".lock";

    // The child only tries the lock (async-signal-safe calls only) and reports.
    auto child_can_lock = [&]() {
        const ::pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            const int fd = ::open(lock_file.c_str(), O_RDWR | O_CLOEXEC);
            if (fd < 0) ::_exit(2);
            ::_exit(::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
        }
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) != 2);
        return WEXITSTATUS(status) == 0;
    };

    {
        const auto held = store.lock("k");
        CHECK_FALSE(child_can_lock());
    }
    CHECK(child_can_lock());
}

TEST_CASE("a planted lock file is checked like a record and refused "
          "(docs/security.md S12)",
          "[file_store][security]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    store.save("k", devflow::secret(canary));
    fs::path lock_file = store.path_for("k");
    lock_file += ".lock";

    // Readable or writable by others: anyone could hold it and block us.
    write_file(lock_file, "", 0644);
    for (auto take : {std::function<void()>([&] { (void)store.lock("k"); }),
                      std::function<void()>([&] { (void)store.try_lock("k"); })}) {
        try {
            take();
            FAIL("a lock file of mode 0644 was used");
        } catch (const devflow::error& e) {
            CHECK(e.code() == devflow::errc::storage_failed);
            CHECK(contains(e.what(), lock_file.string()));
            CHECK(contains(e.what(), "0644"));
        }
    }
    // A symbolic link in its place.
    fs::remove(lock_file);
    fs::create_symlink(tmp.path() / "elsewhere", lock_file);
    try {
        (void)store.lock("k");
        FAIL("a symbolic link was used as the lock file");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::storage_failed);
        CHECK(contains(e.what(), "symbolic link"));
    }
    CHECK_FALSE(fs::exists(tmp.path() / "elsewhere"));
    if (::geteuid() == 0) {
        // Another user's lock file: they could hold it forever.
        fs::remove(lock_file);
        write_file(lock_file, "", 0600);
        REQUIRE(::chown(lock_file.c_str(), 65534, 65534) == 0);
        try {
            (void)store.lock("k");
            FAIL("another user's lock file was used");
        } catch (const devflow::error& e) {
            CHECK(e.code() == devflow::errc::storage_failed);
            CHECK(contains(e.what(), "another user"));
        }
    }
}

TEST_CASE("a lock wait ends after its bound with storage_failed naming the lock file and a stop "
          "cancels it (docs/security.md S12)",
          "[file_store][security]") {
    temp_dir tmp;
    warning_log log;
    devflow::file_store waiting(tmp.path(), log.sink());
    const devflow::file_store holder(tmp.path());
    const auto held = holder.lock("k");
    fs::path lock_file = holder.path_for("k");
    lock_file += ".lock";

    waiting.set_lock_timeout(std::chrono::milliseconds{150});
    CHECK(waiting.lock_timeout() == std::chrono::milliseconds{150});
    const auto started = std::chrono::steady_clock::now();
    try {
        (void)waiting.lock("k");
        FAIL("the lock was taken while held");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::storage_failed);
        CHECK(contains(e.what(), lock_file.string()));
        CHECK(contains(e.what(), "held by another process"));
    }
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds{150});

    // A stop ends the wait at once, long before the bound: asked for from
    // another thread as the wait begins (before or during it, a wait that
    // ignored it would last the ten minutes).
    waiting.set_lock_timeout(std::chrono::minutes{10});
    std::stop_source stop;
    std::latch waiting_begins(1);
    std::jthread stopper([&] {
        waiting_begins.wait();
        stop.request_stop();
    });
    const auto before_stop = std::chrono::steady_clock::now();
    try {
        waiting_begins.count_down();
        (void)waiting.lock("k", stop.get_token());
        FAIL("the lock was taken while held");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::cancelled);
    }
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - before_stop < std::chrono::seconds{5});
    CHECK_THROWS_AS(waiting.set_lock_timeout(std::chrono::milliseconds{-1}), devflow::error);
}

TEST_CASE("a lock taken after its file was erased is a lock on the file now at the path",
          "[file_store]") {
    temp_dir tmp;
    const devflow::file_store a(tmp.path());
    const devflow::file_store b(tmp.path());
    const devflow::file_store c(tmp.path());
    a.save("k", devflow::secret(canary));
    auto held = a.lock("k");
    // b has opened the old lock file (and waits on it) once inotify reports
    // an open of it: a's descriptor was opened before the watch.
    fs::path lock_file = a.path_for("k");
    lock_file += ".lock";
    const int watch = ::inotify_init1(IN_CLOEXEC);
    REQUIRE(watch >= 0);
    REQUIRE(::inotify_add_watch(watch, lock_file.c_str(), IN_OPEN) >= 0);
    std::promise<void> b_has_it;
    std::promise<void> b_may_release;
    std::thread waiter([&] {
        auto mine = b.lock("k");  // waits on the old lock file
        b_has_it.set_value();
        b_may_release.get_future().wait();
    });
    alignas(::inotify_event) char event[sizeof(::inotify_event) + NAME_MAX + 1];
    const ::ssize_t got = ::read(watch, event, sizeof event);  // blocks until b opens it
    ::close(watch);
    REQUIRE(got > 0);
    a.erase("k");  // logout: the lock file goes with the record
    held.unlock();
    b_has_it.get_future().wait();
    // b holds the lock on the file that is at the path now, so c cannot take it.
    CHECK_FALSE(c.try_lock("k").has_value());
    b_may_release.set_value();
    waiter.join();
    CHECK(c.try_lock("k").has_value());
}

TEST_CASE("save removes temporary files of writers that are gone; erase removes every file of "
          "the record (docs/security.md S13)",
          "[file_store][security]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());
    store.save("k", devflow::secret(canary));
    store.save("other", devflow::secret(canary_two));
    const fs::path record = store.path_for("k");
    const std::string name = record.filename().string();

    // A process that died in the middle of a save, and one that is alive.
    const ::pid_t dead = ::fork();
    REQUIRE(dead >= 0);
    if (dead == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(dead, &status, 0) == dead);
    const fs::path dead_temp = tmp.path() / ("." + name + ".tmp-" + std::to_string(dead) + "-0-1");
    const fs::path live_temp =
        tmp.path() / ("." + name + ".tmp-" + std::to_string(::getppid()) + "-0-2");
    write_file(dead_temp, canary, 0600);
    write_file(live_temp, canary, 0600);

    store.save("k", devflow::secret(canary_two));
    CHECK_FALSE(fs::exists(dead_temp));
    CHECK(fs::exists(live_temp));  // its writer may still rename it

    // Everything that belongs to the record goes with a logout.
    write_file(tmp.path() / (name + ".corrupt-1700000000"), canary, 0600);
    write_file(tmp.path() / (name + ".untrusted-1700000000-1"), canary, 0600);
    write_file(dead_temp, canary, 0600);
    { (void)store.lock("k"); }
    store.erase("k");
    for (const auto& entry : entries(tmp.path())) {
        INFO(entry);
        CHECK((entry.find(name) == std::string::npos || entry == live_temp.filename().string()));
    }
    // Another record and its lock are not touched.
    REQUIRE(store.load("other"));
    CHECK(store.load("other")->reveal() == canary_two);
}

// ---------------------------------------------------------------- single-file mode

TEST_CASE("file_store single-file mode keeps every key in one file and leaves its directory mode alone", "[file_store]") {
    temp_dir tmp;
    const fs::path script_dir = tmp.path() / "project";
    REQUIRE(::mkdir(script_dir.c_str(), 0700) == 0);
    REQUIRE(::chmod(script_dir.c_str(), 0755) == 0);
    const fs::path file = script_dir / ".tokens.json";
    warning_log log;
    const devflow::file_store store = devflow::file_store::single_file(file, log.sink());

    CHECK(store.is_single_file());
    CHECK(store.path_for("a") == file);
    CHECK(store.path_for("b") == file);
    store.save("a", devflow::secret(canary));
    REQUIRE(store.load("b"));
    CHECK(store.load("b")->reveal() == canary);  // the flow checks the key inside
    CHECK(mode_of(file) == 0600);
    CHECK(mode_of(script_dir) == 0755);

    {
        const auto held = store.lock("a");
        CHECK(fs::exists(script_dir / ".tokens.json.lock"));
        CHECK_FALSE(store.try_lock("b").has_value());  // one file, one lock
    }
    REQUIRE(store.set_aside("a"));
    CHECK_FALSE(store.load("a").has_value());
    CHECK(entries_starting_with(script_dir, ".tokens.json.corrupt-").size() == 1);
    CHECK(log.lines.size() == 1);
    CHECK(mode_of(script_dir) == 0755);
}

TEST_CASE("file_store single-file mode creates a missing directory privately", "[file_store]") {
    temp_dir tmp;
    const fs::path file = tmp.path() / "new" / "tokens.json";
    const devflow::file_store store = devflow::file_store::single_file(file);
    store.save("k", devflow::secret(canary));
    CHECK(mode_of(tmp.path() / "new") == 0700);
    CHECK(read_file(file) == canary);
}

TEST_CASE("file_store single-file mode needs a file name", "[file_store]") {
    try {
        (void)devflow::file_store::single_file("some/dir/");
        FAIL("a directory was accepted as the single file");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::invalid_config);
    }
}

// ---------------------------------------------------------------- default directory

TEST_CASE("file_store default directory follows XDG_STATE_HOME then HOME", "[file_store]") {
    temp_dir tmp;
    {
        env_scope state("XDG_STATE_HOME", tmp.path().string());
        CHECK(devflow::file_store::default_directory() == tmp.path() / "devflow");
        const devflow::file_store store;
        CHECK(store.path_for("k").parent_path() == tmp.path() / "devflow");
        store.save("k", devflow::secret(canary));
        CHECK(mode_of(tmp.path() / "devflow") == 0700);
    }
    {
        env_scope state("XDG_STATE_HOME", std::nullopt);
        env_scope home("HOME", tmp.path().string());
        CHECK(devflow::file_store::default_directory() == tmp.path() / ".local" / "state" / "devflow");
    }
    {
        // XDG: a relative path is invalid and ignored.
        env_scope state("XDG_STATE_HOME", std::string("relative/state"));
        env_scope home("HOME", tmp.path().string());
        CHECK(devflow::file_store::default_directory() == tmp.path() / ".local" / "state" / "devflow");
    }
}

// ---------------------------------------------------------------- errors

TEST_CASE("file_store errors name the path and never the record contents", "[file_store]") {
    temp_dir tmp;
    const fs::path blocker = tmp.path() / "a-file";
    write_file(blocker, "not a directory", 0600);
    const devflow::file_store store(blocker / "devflow");

    try {
        store.save("k", devflow::secret(canary));
        FAIL("saving under a regular file succeeded");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::storage_failed);
        CHECK(contains(e.what(), blocker.string()));
        CHECK_FALSE(contains(e.what(), canary));
    }
    try {
        const auto held = store.lock("k");
        FAIL("locking under a regular file succeeded");
    } catch (const devflow::error& e) {
        CHECK(e.code() == devflow::errc::storage_failed);
        CHECK_FALSE(contains(e.what(), canary));
    }
}

TEST_CASE("file_store warns on stderr by default with one devflow warning line", "[file_store]") {
    temp_dir tmp;
    const devflow::file_store store(tmp.path());  // no sink: stderr
    store.save("k", devflow::secret(canary));
    REQUIRE(::chmod(store.path_for("k").c_str(), 0604) == 0);

    // Capture file descriptor 2 in a file for the duration of the load.
    const fs::path captured = tmp.path() / "stderr.txt";
    const int capture = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(capture >= 0);
    std::fflush(stderr);
    const int saved = ::dup(2);
    REQUIRE(saved >= 0);
    ::dup2(capture, 2);
    const bool loaded = store.load("k").has_value();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(capture);

    CHECK_FALSE(loaded);
    const std::string text = read_file(captured);
    CHECK(text.rfind("devflow: warning: token record " + store.path_for("k").string(), 0) == 0);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK(text.back() == '\n');
    CHECK_FALSE(contains(text, canary));
}
