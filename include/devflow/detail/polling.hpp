// devflow — when to poll next (RFC 8628 §3.4–3.5). Pure; tested in
// tests/unit/polling_test.cpp.
#pragma once

#include <devflow/detail/lifetimes.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace devflow::detail {

/// The polling pace of one device code. Every wait is measured from the
/// moment the previous answer (or failure) arrived, never from when the
/// request was sent, so the server never sees two polls closer than the
/// interval. All times are steady-clock times.
class poll_schedule {
public:
    using time_point = std::chrono::steady_clock::time_point;
    using seconds = std::chrono::seconds;
    using milliseconds = std::chrono::milliseconds;

    /// `received_at` is when the device authorization answer arrived (the
    /// first poll is one interval after it, RFC 8628 §3.4); the device code
    /// is dead at `deadline` (see device_code_deadline()).
    poll_schedule(time_point received_at, time_point deadline, seconds interval,
                  milliseconds margin, seconds max_backoff) noexcept
        : deadline_(deadline),
          interval_(interval),
          margin_(margin),
          max_backoff_(max_backoff),
          next_(received_at + interval + margin) {}  // RFC 8628 §3.4: first poll one interval after the answer

    /// As above with the deadline `expires_in` after `received_at`.
    poll_schedule(time_point received_at, seconds expires_in, seconds interval,
                  milliseconds margin, seconds max_backoff) noexcept
        : poll_schedule(received_at, received_at + expires_in, interval, margin, max_backoff) {}

    /// When the next poll is due.
    [[nodiscard]] time_point next_poll() const noexcept { return next_; }
    /// When the device code expires.
    [[nodiscard]] time_point deadline() const noexcept { return deadline_; }
    /// The current interval: the floor no wait goes under.
    [[nodiscard]] seconds interval() const noexcept { return interval_; }
    /// True when the next poll would be at or past the deadline.
    [[nodiscard]] bool expired() const noexcept { return next_ >= deadline_; }

    /// authorization_pending arrived at `at`: keep the pace (RFC 8628 §3.5).
    void on_pending(time_point at) noexcept {
        failures_ = 0;
        next_ = at + interval_ + margin_;
    }

    /// slow_down arrived at `at`: the interval grows by 5 s for this and every
    /// later request, or to the body's `interval` when that is larger
    /// (RFC 8628 §3.5). The raised interval is a floor nothing lowers.
    void on_slow_down(time_point at, std::optional<seconds> body_interval) noexcept {
        failures_ = 0;
        interval_ += seconds{5};
        if (body_interval && *body_interval > interval_) interval_ = *body_interval;
        // We waited a full interval by our clock and were still early: our
        // clock runs fast (common on VMs). Widen the safety margin to a
        // quarter of the interval so a skew of up to ~20% stops at one
        // slow_down instead of escalating (docs/protocol.md#fast-clocks).
        margin_ = std::max(margin_, milliseconds{interval_} / 4);
        next_ = at + interval_ + margin_;
    }

    /// A transport failure, 5xx or 429 arrived at `at`: back off exponentially
    /// (interval × 2^n, capped at max_backoff), never below the interval, and
    /// at least as long as Retry-After asks (RFC 9110 §10.2.3).
    void on_retry(time_point at, std::optional<seconds> retry_after) noexcept {
        ++failures_;
        seconds wait = interval_;
        for (int i = 0; i < failures_ && wait < max_backoff_; ++i) wait *= 2;
        wait = std::min(wait, std::max(max_backoff_, interval_));
        wait = std::max(wait, interval_);
        if (retry_after && *retry_after > wait) wait = *retry_after;
        next_ = at + wait + margin_;
    }

    /// The safety margin added to every wait (widened by slow_down).
    [[nodiscard]] milliseconds margin() const noexcept { return margin_; }

    /// Consecutive transient failures so far.
    [[nodiscard]] int failures() const noexcept { return failures_; }

private:
    time_point deadline_;
    seconds interval_;
    milliseconds margin_;
    seconds max_backoff_;
    time_point next_;
    int failures_ = 0;
};

}  // namespace devflow::detail
