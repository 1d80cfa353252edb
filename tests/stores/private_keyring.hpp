// A private Secret Service for the keyring store's tests: a D-Bus session bus
// of its own (dbus-daemon with a configuration that activates nothing) and
// gnome-keyring-daemon on it, its login keyring unlocked with a test
// password, its HOME and XDG directories in a temporary directory, so a test
// touches no real keyring. Both are started here and stopped by PID when the
// object goes away (child_process: SIGTERM, then SIGKILL).
#pragma once

#include "support/child_process.hpp"
#include "temp_dir.hpp"

#include <devflow/adapters/secret_service.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <stdlib.h>  // mkdtemp

#ifndef DEVFLOW_KEYRING_WORKER
#error "define DEVFLOW_KEYRING_WORKER (tests/stores/CMakeLists.txt does)"
#endif

namespace devflow_test {

/// Environment variables for a child process.
using environment = std::vector<std::pair<std::string, std::string>>;

/// A short private directory in /tmp (a socket path holds at most 107
/// bytes, and ctest's TMPDIR may be long), removed with its contents.
class short_dir {
public:
    short_dir() {
        std::string pattern = "/tmp/devflow-kr-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("short_dir: mkdtemp failed");
        path_ = pattern;
    }
    short_dir(const short_dir&) = delete;
    short_dir& operator=(const short_dir&) = delete;
    ~short_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// A D-Bus session bus and, unless told otherwise, an unlocked gnome-keyring on it.
class private_keyring {
public:
    /// Starts the bus, then the keyring daemon when `with_keyring`, and waits
    /// until the keyring answers (devflow_keyring_worker ready).
    /// @throws std::runtime_error when a daemon does not start
    explicit private_keyring(bool with_keyring = true) : home_("devflow-keyring") {
        const std::filesystem::path run = runtime_.path() / "run";
        std::filesystem::create_directories(run);
        std::filesystem::permissions(run, std::filesystem::perms::owner_all);
        std::filesystem::create_directories(home_.path() / "home");
        const std::filesystem::path config = home_.path() / "bus.conf";
        {
            std::ofstream out(config);
            out << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig>\n  <type>session</type>\n"
                << "  <listen>unix:dir=" << run.string() << "</listen>\n"
                << "  <auth>EXTERNAL</auth>\n"
                   "  <policy context=\"default\">\n"
                   "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                   "    <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n"
                   "  </policy>\n</busconfig>\n";
        }
        child_options b;
        b.argv = {"dbus-daemon", "--nofork", "--config-file=" + config.string(), "--print-address=1"};
        b.stdout_pipe = true;
        b.stderr_file = (home_.path() / "dbus.err").string();
        bus_ = std::make_unique<child_process>(b);
        const auto address = bus_->read_line(std::chrono::seconds{10});
        if (!address || address->empty()) throw std::runtime_error("private_keyring: dbus-daemon did not start");
        address_ = *address;
        if (!with_keyring) return;

        const std::filesystem::path password = home_.path() / "password";
        {
            std::ofstream out(password);
            out << "devflow-test-password";
        }
        std::filesystem::permissions(password, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        child_options k;
        k.argv = {"gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"};
        k.env = env();
        k.stdin_file = password.string();
        k.stderr_file = (home_.path() / "keyring.err").string();
        keyring_ = std::make_unique<child_process>(k);
        if (run_worker({"ready"}) != 0)
            throw std::runtime_error("private_keyring: gnome-keyring-daemon did not answer on the private bus");
    }

    private_keyring(const private_keyring&) = delete;
    private_keyring& operator=(const private_keyring&) = delete;

    ~private_keyring() {
        if (keyring_) keyring_->terminate();
        if (bus_) bus_->terminate();
    }

    /// The bus address (DBUS_SESSION_BUS_ADDRESS).
    [[nodiscard]] const std::string& address() const noexcept { return address_; }

    /// The environment of a process that uses this keyring and nothing real.
    [[nodiscard]] environment env() const {
        const std::string home = (home_.path() / "home").string();
        return {{"DBUS_SESSION_BUS_ADDRESS", address_},
                {"HOME", home},
                {"XDG_RUNTIME_DIR", (runtime_.path() / "run").string()},
                {"XDG_DATA_HOME", home + "/.local/share"},
                {"XDG_CONFIG_HOME", home + "/.config"},
                {"XDG_CACHE_HOME", home + "/.cache"},
                {"XDG_STATE_HOME", home + "/.local/state"},
                {"DISPLAY", ""}};
    }

    /// A private directory for a test's files (lock files, outputs).
    [[nodiscard]] const std::filesystem::path& files() const noexcept { return home_.path(); }

    /// Runs devflow_keyring_worker with `args` in env() (plus `extra`), its
    /// output in files()/worker.out; its exit status (-1: killed or timed out).
    int run_worker(const std::vector<std::string>& args, const environment& extra = {},
                   std::string* output = nullptr) const {
        child_options w;
        w.argv = {DEVFLOW_KEYRING_WORKER};
        w.argv.insert(w.argv.end(), args.begin(), args.end());
        w.env = env();
        for (const auto& [name, value] : extra) {
            bool replaced = false;
            for (auto& [n, v] : w.env)
                if (n == name) {
                    v = value;
                    replaced = true;
                }
            if (!replaced) w.env.emplace_back(name, value);
        }
        const std::string out = (home_.path() / "worker.out").string();
        w.stdout_file = out;
        w.stderr_file = out + ".err";
        child_process child(w);
        const auto status = child.wait_for(std::chrono::seconds{30});
        if (output != nullptr) {
            std::ifstream in(out);
            output->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            std::ifstream err(out + ".err");
            output->append(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
        }
        return status.value_or(-1);
    }

private:
    short_dir runtime_;
    temp_dir home_;
    std::string address_;
    std::unique_ptr<child_process> bus_;
    std::unique_ptr<child_process> keyring_;
};

/// The keyring every in-process case uses: libsecret keeps one connection
/// per process, so this process talks to one bus for its whole life. Cases
/// that need another bus (or none) run devflow_keyring_worker.
inline private_keyring& shared_keyring() {
    static private_keyring keyring;
    return keyring;
}

/// A store on the shared keyring, its locks in the keyring's files().
inline devflow::secret_service_store keyring_store() {
    private_keyring& k = shared_keyring();
    for (const auto& [name, value] : k.env()) ::setenv(name.c_str(), value.c_str(), 1);
    devflow::secret_service_store::options o;
    o.lock_directory = k.files() / "locks";
    return devflow::secret_service_store(o);
}

}  // namespace devflow_test
