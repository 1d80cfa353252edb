// devflow — system_clock: the real clocks and a sleep a std::stop_token cuts
// short (docs/policies.md#clock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <stop_token>

namespace devflow {

/// Models devflow::waitable_clock with std::chrono's clocks; empty, so it costs
/// nothing inside the flow.
class system_clock {
public:
    /// Wall-clock time, for token expiry.
    [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept {
        return std::chrono::system_clock::now();
    }

    /// The wall time at the last kernel tick (CLOCK_REALTIME_COARSE): about
    /// three times cheaper to read than now(), and behind it by a few
    /// milliseconds (a tick is 1–4 ms; 7 ms was measured on a virtual
    /// machine). authorization_header() reads it first (docs/performance.md).
    [[nodiscard]] std::chrono::system_clock::time_point coarse_now() const noexcept {
#if defined(CLOCK_REALTIME_COARSE)
        timespec ts{};
        if (::clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0) {
            const auto since_epoch = std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
            return std::chrono::system_clock::time_point{
                std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)};
        }
#endif
        return now();
    }

    /// Monotonic time, for polling intervals and deadlines.
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const noexcept {
        return std::chrono::steady_clock::now();
    }

    /// Waits `duration` on the steady clock; returns true after the full wait,
    /// false at once when `stop` is requested before or during it.
    bool sleep_for(std::chrono::steady_clock::duration duration, std::stop_token stop) const {
        if (stop.stop_requested()) return false;
        if (duration <= std::chrono::steady_clock::duration::zero()) return true;
        // Clamp absurd waits (e.g. duration::max()) so the deadline cannot overflow.
        constexpr std::chrono::steady_clock::duration longest = std::chrono::hours(24 * 365 * 100);
        const auto deadline =
            std::chrono::steady_clock::now() + (duration < longest ? duration : longest);
        std::mutex mutex;
        std::condition_variable_any wake;
        std::unique_lock<std::mutex> lock(mutex);
        // Nothing but the stop token notifies: the predicate only ends the wait
        // early when a stop is requested; spurious wake-ups wait again.
        wake.wait_until(lock, stop, deadline, [] { return false; });
        return !stop.stop_requested();
    }
};

}  // namespace devflow
