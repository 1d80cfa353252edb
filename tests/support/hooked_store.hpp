// A token store wrapper that runs a hook once just before it takes its lock:
// it lets a test play "another process acted while this one waited for the
// lock" deterministically, without racing real threads.
#pragma once

#include <devflow/concepts.hpp>
#include <devflow/secret.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string_view>
#include <utility>

namespace devflow_test {

/// Models devflow::token_store and devflow::lockable_store over `Store`.
/// Copies share the hook, so a test keeps a copy and arms it while the flow
/// owns another.
template <class Store>
class hooked_store {
public:
    explicit hooked_store(Store inner) : inner_(std::move(inner)), hook_(std::make_shared<state>()) {}

    /// Runs `fn` once, the next time anyone asks any copy for the lock,
    /// before the lock is taken.
    void before_next_lock(std::function<void()> fn) {
        std::lock_guard guard(hook_->mutex);
        hook_->fn = std::move(fn);
    }

    /// How many times a copy was asked for the lock.
    [[nodiscard]] int locks() const {
        std::lock_guard guard(hook_->mutex);
        return hook_->locks;
    }

    std::optional<devflow::secret> load(std::string_view key) { return inner_.load(key); }
    void save(std::string_view key, const devflow::secret& record) { inner_.save(key, record); }
    void erase(std::string_view key) { inner_.erase(key); }

    auto lock(std::string_view key, std::stop_token stop = {}) {
        std::function<void()> fn;
        {
            std::lock_guard guard(hook_->mutex);
            ++hook_->locks;
            fn = std::exchange(hook_->fn, {});
        }
        if (fn) fn();
        return inner_.lock(key, std::move(stop));
    }

    Store& inner() { return inner_; }

private:
    struct state {
        mutable std::mutex mutex;
        std::function<void()> fn;
        int locks = 0;
    };
    Store inner_;
    std::shared_ptr<state> hook_;
};

}  // namespace devflow_test
