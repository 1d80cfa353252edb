// The contract every lockable token store keeps (docs/policies.md#storage),
// checked the same way for each: a lock on a key excludes a second holder
// (another object, another copy) until it is released, locks are per key,
// moving the guard moves the lock, and a thread waiting in lock() gets it
// only after the holder lets go.
#pragma once

#include "catch.hpp"

#include <chrono>
#include <future>
#include <thread>
#include <utility>

namespace devflow_test {

/// Runs the lock contract with `store` holding and `other` (another object
/// or copy over the same records) competing.
template <class Store, class Other>
void check_exclusive_key_locks(Store& store, Other& other) {
    auto held = store.lock("k");
    REQUIRE(held.owns_lock());
    CHECK_FALSE(other.try_lock("k").has_value());
    {
        auto unrelated = other.try_lock("another key");  // locks are per key
        REQUIRE(unrelated);
        CHECK(unrelated->owns_lock());
    }

    // Moving the guard moves the lock; the moved-from guard releases nothing.
    auto moved = std::move(held);
    CHECK_FALSE(held.owns_lock());
    CHECK(moved.owns_lock());
    CHECK_FALSE(other.try_lock("k").has_value());

    // A thread blocked in lock() gets the lock only after this one lets go.
    std::promise<void> started;
    std::promise<void> acquired;
    std::promise<void> may_release;
    std::thread waiter([&] {
        started.set_value();
        auto mine = other.lock("k");
        acquired.set_value();
        may_release.get_future().wait();
    });
    started.get_future().wait();
    std::future<void> acquired_future = acquired.get_future();
    CHECK(acquired_future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    moved.unlock();
    CHECK_FALSE(moved.owns_lock());
    acquired_future.wait();
    CHECK_FALSE(store.try_lock("k").has_value());  // the thread holds it now
    may_release.set_value();
    waiter.join();
    CHECK(store.try_lock("k").has_value());
}

}  // namespace devflow_test
