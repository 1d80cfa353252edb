// devflow — a mutex whose wait a std::stop_token can abandon: a thread that
// waits for another thread's sign-in or refresh can still be cancelled.
// Tested in tests/unit/concurrency_test.cpp.
#pragma once

#include <devflow/error.hpp>

#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace devflow::detail {

/// Exclusive ownership, like std::mutex, with a lock() that gives up when a
/// stop is requested. Not recursive.
class stoppable_mutex {
public:
    /// Waits until this thread owns the mutex.
    /// @throws devflow::error errc::cancelled when `stop` is requested first
    void lock(const std::stop_token& stop) {
        std::unique_lock guard(mutex_);
        if (!free_.wait(guard, stop, [this] { return !owned_; }))
            throw_error(errc::cancelled,
                        "cancelled while waiting for another operation of this flow");
        owned_ = true;
    }

    /// Waits until this thread owns the mutex (BasicLockable).
    void lock() {
        std::unique_lock guard(mutex_);
        free_.wait(guard, [this] { return !owned_; });
        owned_ = true;
    }

    /// Gives the mutex up.
    void unlock() noexcept {
        {
            std::lock_guard guard(mutex_);
            owned_ = false;
        }
        free_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable_any free_;
    bool owned_ = false;
};

/// Owns a stoppable_mutex for one scope.
class stoppable_lock {
public:
    /// Locks `m`, giving up (errc::cancelled) when `stop` is requested.
    stoppable_lock(stoppable_mutex& m, const std::stop_token& stop) : mutex_(m) { m.lock(stop); }
    /// Locks `m`, waiting as long as it takes.
    explicit stoppable_lock(stoppable_mutex& m) : mutex_(m) { m.lock(); }
    stoppable_lock(const stoppable_lock&) = delete;
    stoppable_lock& operator=(const stoppable_lock&) = delete;
    ~stoppable_lock() { mutex_.unlock(); }

private:
    stoppable_mutex& mutex_;
};

}  // namespace devflow::detail
