// Crash safety of devflow::file_store (docs/design.md §3, docs/hardening.md).
//
// A child process saves two complete records, A (small) and B (large), in
// turn through file_store::save (the real temp-file + fsync + rename + fsync
// directory path), forever. The parent SIGKILLs it after a random number of
// microseconds, hundreds of times, and after every kill checks what a later
// run of the program would find:
//   - the record file is exactly A or exactly B (absent only until the first
//     save ever completed), never a mix, a prefix or empty;
//   - it is a regular file of ours with mode 0600, in a directory of mode 0700;
//   - file_store::load reads those same bytes and warns about nothing;
//   - temporary files a kill left behind are mode 0600 and never the record.
// Both store layouts are tested: directory mode and single-file mode.
//
//   devflow_crash_test [--iterations N] [--disk-iterations N] [--seed S] [--self-check]
// N kills per layout on tmpfs (default 300; /dev/shm, else $TMPDIR) and on
// the temporary directory's disk (default 60); each layout stops after 4 s
// once 20 kills are done, so the test stays under 20 s on a slow disk.
// Exit status 0 when every check held; the seed is printed for reproduction.
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/secret.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

int failures = 0;

/// --self-check: the child writes the record in place (truncate, then 4 KiB
/// chunks), as a store without atomic replacement would; the checks must
/// catch it, which shows they can fail.
bool naive_writer = false;

/// Writes `bytes` over `path` in place, the unsafe way.
void write_in_place(const fs::path& path, const std::string& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) ::_exit(4);
    for (std::size_t at = 0; at < bytes.size(); at += 4096) {
        const std::size_t n = std::min<std::size_t>(4096, bytes.size() - at);
        if (::write(fd, bytes.data() + at, n) != static_cast<ssize_t>(n)) ::_exit(4);
    }
    ::close(fd);
}

/// Reports one broken check (never the record's bytes: they stand for tokens).
void fail(const std::string& what) {
    if (++failures <= 10) std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    if (failures == 10) std::fprintf(stderr, "FAIL: (further failures counted, not shown)\n");
}

/// A complete record of `size` bytes: JSON with a body of `fill` and a
/// closing marker, so any prefix or mix of two records differs from both.
std::string make_record(char fill, std::size_t size) {
    std::string head = "{\"devflow_record\":1,\"access_token\":\"";
    std::string tail = "\",\"end\":\"" + std::string(1, fill) + "-complete\"}";
    std::string body(size - head.size() - tail.size(), fill);
    return head + body + tail;
}

std::optional<std::string> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void sleep_microseconds(long us) {
    timespec ts{us / 1000000, (us % 1000000) * 1000};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

struct mode_result {
    int kills = 0;
    int saw_a = 0;
    int saw_b = 0;
    int saw_absent = 0;
    int child_exits = 0;
    std::size_t leftover_temps = 0;
};

/// Runs the kill loop against `store` (whose record file for `key` is
/// `record_path`, in `directory`) for `iterations` kills.
mode_result run_mode(const char* label, const devflow::file_store& store,
                     std::vector<std::string>& warnings, const std::string& key,
                     const fs::path& directory, int iterations, long max_delay_us,
                     std::mt19937_64& rng, double budget_seconds) {
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(budget_seconds));
    const std::string a = make_record('A', 613);
    const std::string b = make_record('B', 48 * 1024 + 7);
    const fs::path record_path = store.path_for(key);
    mode_result r;
    bool ever_present = false;
    std::uniform_int_distribution<long> delay(0, max_delay_us);
    if (naive_writer) store.save(key, devflow::secret{a});  // creates the 0700 directory

    for (int i = 0; i < iterations; ++i) {
        if (std::chrono::steady_clock::now() > give_up && i >= 20) {
            std::printf("  %s: time budget reached after %d kills\n", label, i);
            break;
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            fail(std::string(label) + ": fork failed: " + std::strerror(errno));
            return r;
        }
        if (pid == 0) {
            // The child: save A and B in turn until killed.
            try {
                for (;;) {
                    if (naive_writer) {
                        write_in_place(record_path, a);
                        write_in_place(record_path, b);
                        continue;
                    }
                    store.save(key, devflow::secret{a});
                    store.save(key, devflow::secret{b});
                }
            } catch (const devflow::error& e) {
                std::fprintf(stderr, "child: %s\n", e.what());
            }
            ::_exit(3);
        }
        sleep_microseconds(delay(rng));
        ::kill(pid, SIGKILL);
        int wstatus = 0;
        while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
        }
        if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) {
            ++r.kills;
        } else {
            ++r.child_exits;
            fail(std::string(label) + ": the writer stopped by itself (status " +
                 std::to_string(wstatus) + ")");
        }

        // What the next run of the program would find.
        struct ::stat st {};
        if (::lstat(record_path.c_str(), &st) != 0) {
            if (errno != ENOENT) fail(std::string(label) + ": cannot inspect the record");
            if (ever_present) fail(std::string(label) + ": the record vanished after a kill");
            ++r.saw_absent;
        } else {
            ever_present = true;
            if (!S_ISREG(st.st_mode)) fail(std::string(label) + ": the record is not a regular file");
            if ((st.st_mode & 07777) != 0600)
                fail(std::string(label) + ": the record has mode " + std::to_string(st.st_mode & 07777));
            if (st.st_uid != ::geteuid()) fail(std::string(label) + ": the record is not ours");
            const auto bytes = read_file(record_path);
            if (!bytes) {
                fail(std::string(label) + ": cannot read the record");
            } else if (*bytes == a) {
                ++r.saw_a;
            } else if (*bytes == b) {
                ++r.saw_b;
            } else {
                fail(std::string(label) + ": after kill " + std::to_string(i) +
                     " the record is neither A nor B (" + std::to_string(bytes->size()) + " bytes)");
            }
            // The real read path sees the same bytes and trusts them.
            const auto loaded = store.load(key);
            if (!loaded || !bytes || loaded->reveal() != *bytes)
                fail(std::string(label) + ": file_store::load does not give the record back");
        }
        // The directory is made with the first save; a kill before it leaves
        // none, which is fine. Once it exists it is 0700.
        struct ::stat dst {};
        if (::stat(directory.c_str(), &dst) != 0) {
            if (errno != ENOENT || ever_present)
                fail(std::string(label) + ": the record's directory is missing");
        } else if ((dst.st_mode & 07777) != 0700) {
            fail(std::string(label) + ": the record's directory is not mode 0700");
        }
        if (!warnings.empty()) {
            fail(std::string(label) + ": the store warned: " + warnings.front());
            warnings.clear();
        }
    }

    // Temporary files left by kills mid-write: private, and never the record.
    for (const auto& entry : fs::directory_iterator(directory)) {
        const fs::path p = entry.path();
        if (p == record_path) continue;
        const std::string name = p.filename().string();
        if (name.find(".tmp-") != std::string::npos) {
            ++r.leftover_temps;
            struct ::stat st {};
            if (::lstat(p.c_str(), &st) != 0 || (st.st_mode & 07777) != 0600)
                fail(std::string(label) + ": a leftover temporary file is not mode 0600: " + name);
        } else if (name.size() < 5 || name.compare(name.size() - 5, 5, ".lock") != 0) {
            fail(std::string(label) + ": unexpected file in the store directory: " + name);
        }
    }
    std::printf("  %-12s %4d kills: record was A %d times, B %d times, absent %d times "
                "(before the first save); %zu temporary files left by kills mid-write\n",
                label, r.kills, r.saw_a, r.saw_b, r.saw_absent, r.leftover_temps);
    if (r.saw_a == 0 || r.saw_b == 0)
        fail(std::string(label) + ": the kills never caught both records; the delays are too regular");
    return r;
}

/// A fresh private directory under `parent`, removed at the end.
struct scratch_dir {
    fs::path path;
    explicit scratch_dir(const fs::path& parent) {
        std::string tmpl = (parent / "devflow-crash-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            std::perror("mkdtemp");
            std::exit(2);
        }
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

/// A directory on tmpfs when there is one (no disk flush: many kills per
/// second), else the temporary directory.
fs::path fast_parent() {
    std::error_code ec;
    if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
    return fs::temp_directory_path();
}

/// Kills the writer of both store layouts in a scratch directory under `parent`.
void run_layouts(const char* where, const fs::path& parent, int iterations,
                 double budget_seconds, std::mt19937_64& rng) {
    scratch_dir scratch(parent);
    std::vector<std::string> warnings;
    auto sink = [&warnings](std::string_view w) { warnings.emplace_back(w); };
    const std::string key = "https://sso.example.org/realms/demo\ncli\nopenid";

    // How long one save takes here, so the kills spread over whole A+B cycles.
    long max_delay_us = 0;
    {
        const devflow::file_store probe(scratch.path / "probe", sink);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < 10; ++i) probe.save(key, devflow::secret{make_record('P', 24 * 1024)});
        const auto per_save = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start) / 10;
        // Fork and the child's first steps take a while too: up to ~6 saves.
        max_delay_us = std::max<long>(2000, 6 * static_cast<long>(per_save.count()));
        std::printf("%s (%s): one save takes about %lld us; kills land 0..%ld us after fork\n",
                    where, scratch.path.c_str(), static_cast<long long>(per_save.count()),
                    max_delay_us);
    }
    // Directory mode: the store creates <scratch>/state/devflow with mode 0700.
    const fs::path state = scratch.path / "state" / "devflow";
    const devflow::file_store directory_store(state, sink);
    run_mode("directory", directory_store, warnings, key, state, iterations, max_delay_us, rng,
             budget_seconds / 2);

    // Single-file mode: a `.tokens.json` beside a script, in a private folder.
    const fs::path script_dir = scratch.path / "script";
    fs::create_directory(script_dir);
    fs::permissions(script_dir, fs::perms::owner_all, fs::perm_options::replace);
    const auto single = devflow::file_store::single_file(script_dir / ".tokens.json", sink);
    run_mode("single_file", single, warnings, key, script_dir, iterations, max_delay_us, rng,
             budget_seconds / 2);
}

}  // namespace

int main(int argc, char** argv) {
    int iterations = 300;
    int disk_iterations = 60;
    unsigned long long seed = std::random_device{}();
    for (int i = 1; i < argc; ++i) {
        const std::string_view opt = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : "0";
        if (opt == "--self-check") naive_writer = true;
        else if (opt == "--iterations") iterations = std::atoi(value), ++i;
        else if (opt == "--disk-iterations") disk_iterations = std::atoi(value), ++i;
        else if (opt == "--seed") seed = std::strtoull(value, nullptr, 10), ++i;
        else {
            std::fprintf(stderr, "usage: %s [--iterations N] [--disk-iterations N] [--seed S] "
                                 "[--self-check]\n", argv[0]);
            return 2;
        }
    }
    if (naive_writer) {
        // The checker against a writer that is not atomic: it must object.
        std::printf("devflow crash test self-check: an in-place writer, seed %llu\n", seed);
        std::mt19937_64 rng(seed);
        run_layouts("tmpfs", fast_parent(), 150, 4, rng);
        if (failures == 0) {
            std::fprintf(stderr, "self-check FAILED: torn in-place writes went unnoticed\n");
            return 1;
        }
        std::printf("self-check passed: the checks caught %d torn or missing records\n", failures);
        return 0;
    }
    std::printf("devflow crash test: seed %llu\n", seed);
    std::mt19937_64 rng(seed);
    const auto started = std::chrono::steady_clock::now();

    // Many kills where saves are cheap; a few where every fsync reaches a disk.
    run_layouts("tmpfs", fast_parent(), iterations, 8, rng);
    if (disk_iterations > 0) run_layouts("disk", fs::temp_directory_path(), disk_iterations, 8, rng);

    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (failures != 0) {
        std::fprintf(stderr, "devflow crash test: %d checks failed in %.1f s (seed %llu)\n",
                     failures, took, seed);
        return 1;
    }
    std::printf("devflow crash test: every surviving record was complete and private (%.1f s)\n", took);
    return 0;
}
