// The simulated end user: runs tests/integration/server/approve.mjs, which
// walks the provider's real pages (enter the code, confirm, log in, consent)
// like a person at a browser. A user_browser hands it the URL the flow opens;
// it starts at once or after the flow's N-th poll answer, in the background,
// while the flow keeps polling.
#pragma once

#include "child_process.hpp"
#include "provider.hpp"
#include "test_certificate.hpp"

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace devflow_test {

/// What the simulated user does.
struct user_options {
    /// The login name; it becomes the `sub` of the tokens.
    std::string name = "alice";
    /// Deny at the device confirmation page instead of approving.
    bool deny = false;
    /// Start after this many poll answers (0: as soon as the browser opens;
    /// negative: never, the user walks away).
    int after_polls = 0;
    /// Trust this PEM file for https.
    std::string ca_file;
};

/// How the simulated user's visit ended.
struct user_outcome {
    bool ran = false;       ///< approve.mjs was started
    int exit_status = -1;   ///< 0: did what was asked
    std::string output;     ///< its stdout and stderr (user code and host; no token)
};

/// Runs approve.mjs once, synchronously, on `uri` (verification_uri_complete).
inline user_outcome run_approve(const std::string& uri, const user_options& options) {
    temp_dir dir;
    child_options o;
    o.argv = {"node", server_dir() + "/approve.mjs", "--uri", uri, "--user", options.name,
              "--timeout-ms", "10000"};
    if (options.deny) o.argv.emplace_back("--deny");
    if (!options.ca_file.empty()) {
        o.argv.emplace_back("--ca");
        o.argv.push_back(options.ca_file);
    }
    o.stdout_file = (dir.path() / "out").string();
    o.stderr_file = (dir.path() / "err").string();
    user_outcome outcome;
    outcome.ran = true;
    {
        child_process user(o);
        const auto status = user.wait_for(std::chrono::seconds{60});
        outcome.exit_status = status ? *status : user.terminate();
    }
    for (const char* name : {"out", "err"}) {
        std::ifstream in(dir.path() / name);
        std::stringstream s;
        s << in.rdbuf();
        outcome.output += s.str();
    }
    return outcome;
}

/// The person at the browser. Shared (std::shared_ptr) by the test, the
/// user_browser the flow owns, and the poll hook of observed_http.
class simulated_user {
public:
    explicit simulated_user(user_options options) : options_(std::move(options)) {}
    simulated_user(const simulated_user&) = delete;
    simulated_user& operator=(const simulated_user&) = delete;
    ~simulated_user() {
        if (worker_.joinable()) worker_.join();
    }

    /// The flow opened `url` in the "browser".
    void browser_opened(std::string url) {
        {
            std::lock_guard lock(mutex_);
            opened_.push_back(url);
            url_ = std::move(url);
            polls_ = 0;
            if (options_.after_polls != 0) return;
        }
        start();
    }

    /// The flow got an answer to one poll of the device code.
    void poll_answered() {
        {
            std::lock_guard lock(mutex_);
            ++polls_;
            if (options_.after_polls <= 0 || polls_ != options_.after_polls) return;
        }
        start();
    }

    /// Waits for the visit to end and says how it went.
    user_outcome wait() {
        if (worker_.joinable()) worker_.join();
        std::lock_guard lock(mutex_);
        return outcome_;
    }

    /// Every URL the flow opened, in order.
    [[nodiscard]] std::vector<std::string> opened() const {
        std::lock_guard lock(mutex_);
        return opened_;
    }

    /// How many visits were started.
    [[nodiscard]] int visits() const {
        std::lock_guard lock(mutex_);
        return visits_;
    }

private:
    // Called on the flow's thread only (from open() and from the poll hook).
    void start() {
        if (worker_.joinable()) worker_.join();  // a second sign-in: the first visit is over
        std::lock_guard lock(mutex_);
        if (url_.empty()) return;
        ++visits_;
        worker_ = std::thread([this, url = url_, options = options_] {
            user_outcome o = run_approve(url, options);
            std::lock_guard done_lock(mutex_);
            outcome_ = std::move(o);
        });
    }

    user_options options_;
    mutable std::mutex mutex_;
    std::string url_;
    std::vector<std::string> opened_;
    int polls_ = 0;
    int visits_ = 0;
    user_outcome outcome_;
    std::thread worker_;
};

/// Models devflow::browser: "opens" the verification URL by handing it to the
/// simulated user; records what it was given.
class user_browser {
public:
    explicit user_browser(std::shared_ptr<simulated_user> user) : user_(std::move(user)) {}

    /// Hands `url` to the simulated user; returns true (a browser opened).
    bool open(std::string_view url) {
        user_->browser_opened(std::string(url));
        return true;
    }

private:
    std::shared_ptr<simulated_user> user_;
};

}  // namespace devflow_test
