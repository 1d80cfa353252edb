// devflow — testing::fake_clock: virtual time that moves only when the code
// under test waits. Part of devflow/testing.hpp, shipped to users.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <vector>

namespace devflow::testing {

/// A devflow::waitable_clock whose time advances only when someone sleeps on
/// it (or the test calls advance()). Copies share one timeline, so a test
/// keeps a copy while the flow owns another. Thread-safe.
class fake_clock {
public:
    using wall_time = std::chrono::system_clock::time_point;
    using steady_time = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;

    /// Starts at 2026-01-01T00:00:00Z wall time and an arbitrary steady time.
    fake_clock()
        : state_(std::make_shared<state>()) {}

    /// Virtual wall time (token expiry).
    [[nodiscard]] wall_time now() const {
        std::lock_guard lock(state_->mutex);
        return state_->wall;
    }

    /// Virtual steady time (polling, deadlines).
    [[nodiscard]] steady_time steady_now() const {
        std::lock_guard lock(state_->mutex);
        return state_->steady;
    }

    /// Advances virtual time by `d` at once, then returns false if `stop` was
    /// requested (before or during the advance, e.g. by an on_advance hook).
    bool sleep_for(duration d, std::stop_token stop) {
        if (stop.stop_requested()) return false;
        double scale = 1.0;
        {
            std::lock_guard lock(state_->mutex);
            ++state_->sleeps;
            scale = state_->sleep_scale;
        }
        advance(scale == 1.0 ? d
                             : std::chrono::duration_cast<duration>(
                                   std::chrono::duration<double, duration::period>(
                                       static_cast<double>(d.count()) * scale)));
        return !stop.stop_requested();
    }

    /// Moves both timelines forward by `d` and runs the on_advance hooks.
    void advance(duration d) {
        std::vector<std::function<void(duration)>> hooks;
        duration elapsed{};
        {
            std::lock_guard lock(state_->mutex);
            if (d.count() > 0) {
                state_->steady += d;
                state_->wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
            }
            hooks = state_->hooks;
            elapsed = state_->steady - state_->start;
        }
        for (auto& hook : hooks) hook(elapsed);
    }

    /// Calls `hook(elapsed)` after every advance, with the virtual time since
    /// the clock was made: scripts events ("stop after 10 h") in virtual time.
    void on_advance(std::function<void(duration)> hook) {
        std::lock_guard lock(state_->mutex);
        state_->hooks.push_back(std::move(hook));
    }

    /// Plays a clock that runs fast: every sleep lasts only `scale` of what
    /// was asked (0.9 = 10% fast), so the code under test wakes up early.
    void set_sleep_scale(double scale) {
        std::lock_guard lock(state_->mutex);
        state_->sleep_scale = scale;
    }

    /// Virtual time since the clock was made.
    [[nodiscard]] duration elapsed() const {
        std::lock_guard lock(state_->mutex);
        return state_->steady - state_->start;
    }

    /// The steady time the clock started at.
    [[nodiscard]] steady_time start() const {
        std::lock_guard lock(state_->mutex);
        return state_->start;
    }

    /// How many times code slept on this clock.
    [[nodiscard]] std::size_t sleeps() const {
        std::lock_guard lock(state_->mutex);
        return state_->sleeps;
    }

private:
    struct state {
        std::mutex mutex;
        steady_time start{std::chrono::hours{1000}};
        steady_time steady{std::chrono::hours{1000}};
        // 2026-01-01T00:00:00Z
        wall_time wall{std::chrono::seconds{1767225600}};
        std::size_t sleeps = 0;
        double sleep_scale = 1.0;
        std::vector<std::function<void(duration)>> hooks;
    };
    std::shared_ptr<state> state_;
};

}  // namespace devflow::testing
