// devflow — a secret that writers publish with a deadline and readers copy
// while it is fresh: the hot path of authorization_header()
// (docs/performance.md). Tested in tests/unit/published_secret_test.cpp.
#pragma once

#include <devflow/secret.hpp>

#include <chrono>
#include <mutex>
#include <string>

namespace devflow::detail {

/// A text and the wall time until which it may be served, behind a plain
/// std::mutex. The read side is a lock, a comparison, a copy and an unlock:
/// uncontended, a std::mutex costs two atomic operations on one cache line,
/// several times less than a std::shared_mutex's reader side (measured in
/// docs/performance.md, with a sequence lock that lost on long tokens
/// because atomic word-by-word copies do not vectorise). The text is a
/// devflow::secret: wiped when replaced, cleared or destroyed.
class published_secret {
public:
    using time_point = std::chrono::system_clock::time_point;

    /// Publishes `text`, served while the reader's `now` is before `until`.
    void publish(secret text, time_point until) {
        std::lock_guard lock(mutex_);
        text_ = std::move(text);  // the old text is wiped
        until_ = until;
    }

    /// Withdraws the text and wipes it; readers get nothing until the next
    /// publish().
    void clear() noexcept {
        std::lock_guard lock(mutex_);
        text_.clear();
        until_ = time_point::min();
    }

    /// Copies the text into `out` (which the caller passes empty) and
    /// returns true when one is published and `now` is before its deadline;
    /// returns false and leaves `out` alone otherwise.
    bool copy_if_fresh(time_point now, std::string& out) const {
        std::lock_guard lock(mutex_);
        if (!(now < until_) || text_.empty()) return false;
        out = text_.reveal();
        return true;
    }

private:
    mutable std::mutex mutex_;
    secret text_;
    time_point until_ = time_point::min();
};

}  // namespace devflow::detail
