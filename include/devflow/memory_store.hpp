// devflow — memory_store: a token store that lives in memory (docs/storage.md).
//
// Copies share one set of records, so a test can hand two flows one store and
// let them play two processes; lock(key) models the file store's
// cross-process lock with a per-key mutex.
#pragma once

#include <devflow/error.hpp>
#include <devflow/secret.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

namespace devflow {

/// Models devflow::token_store and devflow::lockable_store in memory; thread-safe,
/// and copies share the same records and locks.
class memory_store {
    struct shared_state {
        std::mutex mutex;
        std::map<std::string, secret, std::less<>> records;
        std::map<std::string, std::shared_ptr<std::timed_mutex>, std::less<>> locks;
        std::size_t saves = 0;
    };

public:
    /// Holds the lock on one key until destroyed (or unlock()); movable, not copyable.
    class key_lock {
    public:
        /// A key_lock that holds nothing.
        key_lock() noexcept = default;
        key_lock(key_lock&&) noexcept = default;
        key_lock& operator=(key_lock&& other) noexcept {
            if (this != &other) {
                unlock();
                lock_ = std::move(other.lock_);
                mutex_ = std::move(other.mutex_);
            }
            return *this;
        }
        key_lock(const key_lock&) = delete;
        key_lock& operator=(const key_lock&) = delete;
        ~key_lock() { unlock(); }

        /// True while this object holds the lock.
        [[nodiscard]] bool owns_lock() const noexcept { return lock_.owns_lock(); }

        /// Releases the lock early; does nothing when none is held.
        void unlock() noexcept {
            if (lock_.owns_lock()) lock_.unlock();
            lock_ = {};
            mutex_.reset();
        }

    private:
        friend class memory_store;
        key_lock(std::shared_ptr<std::timed_mutex> mutex, std::unique_lock<std::timed_mutex> lock) noexcept
            : mutex_(std::move(mutex)), lock_(std::move(lock)) {}

        std::shared_ptr<std::timed_mutex> mutex_;  // declared first: outlives lock_
        std::unique_lock<std::timed_mutex> lock_;
    };

    /// An empty store with its own records.
    memory_store() : state_(std::make_shared<shared_state>()) {}

    /// The record kept under `key`, or std::nullopt when there is none.
    [[nodiscard]] std::optional<secret> load(std::string_view key) const {
        std::lock_guard<std::mutex> guard(state_->mutex);
        const auto it = state_->records.find(key);
        if (it == state_->records.end()) return std::nullopt;
        return it->second;
    }

    /// Keeps a copy of `record` under `key`, replacing any earlier one.
    void save(std::string_view key, const secret& record) {
        std::lock_guard<std::mutex> guard(state_->mutex);
        const auto it = state_->records.find(key);
        if (it == state_->records.end())
            state_->records.emplace(std::string(key), record);
        else
            it->second = record;
        ++state_->saves;
    }

    /// Forgets the record under `key`; a missing record is fine.
    void erase(std::string_view key) {
        std::lock_guard<std::mutex> guard(state_->mutex);
        const auto it = state_->records.find(key);
        if (it != state_->records.end()) state_->records.erase(it);
    }

    /// Waits until this thread holds the lock on `key` (shared by all copies;
    /// not recursive: locking a key twice from one thread deadlocks).
    /// @throws devflow::error errc::cancelled when `stop` is requested first
    [[nodiscard]] key_lock lock(std::string_view key, std::stop_token stop = {}) {
        std::shared_ptr<std::timed_mutex> m = mutex_for(key);
        std::unique_lock<std::timed_mutex> lock(*m, std::defer_lock);
        while (!lock.try_lock_for(std::chrono::milliseconds{5})) {
            if (stop.stop_requested())
                detail::throw_error(errc::cancelled, "devflow memory_store: the wait for a lock was cancelled");
        }
        return key_lock(std::move(m), std::move(lock));
    }

    /// Takes the lock on `key` if it is free; std::nullopt when another holder has it.
    [[nodiscard]] std::optional<key_lock> try_lock(std::string_view key) {
        std::shared_ptr<std::timed_mutex> m = mutex_for(key);
        std::unique_lock<std::timed_mutex> lock(*m, std::try_to_lock);
        if (!lock.owns_lock()) return std::nullopt;
        return key_lock(std::move(m), std::move(lock));
    }

    /// Test hook: how many times save() has been called on this store or its copies.
    [[nodiscard]] std::size_t saves() const {
        std::lock_guard<std::mutex> guard(state_->mutex);
        return state_->saves;
    }

private:
    std::shared_ptr<std::timed_mutex> mutex_for(std::string_view key) {
        std::lock_guard<std::mutex> guard(state_->mutex);
        auto it = state_->locks.find(key);
        if (it == state_->locks.end())
            it = state_->locks.emplace(std::string(key), std::make_shared<std::timed_mutex>()).first;
        return it->second;
    }

    std::shared_ptr<shared_state> state_;
};

}  // namespace devflow
