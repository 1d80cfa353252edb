// devflow — testing::recording_browser: a browser that opens nothing and
// remembers what it was asked to open. Part of devflow/testing.hpp.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::testing {

/// A devflow::browser that opens nothing and remembers what it was asked to
/// open. Copies share one record. `set_result(false)` plays a headless box.
class recording_browser {
public:
    recording_browser() : state_(std::make_shared<state>()) {}

    /// Records `url`; returns what set_result() said (true by default).
    bool open(std::string_view url) {
        std::lock_guard lock(state_->mutex);
        state_->opened.emplace_back(url);
        return state_->result;
    }
    /// What open() returns from now on.
    void set_result(bool opened) {
        std::lock_guard lock(state_->mutex);
        state_->result = opened;
    }
    /// Every URL open() was called with.
    [[nodiscard]] std::vector<std::string> opened() const {
        std::lock_guard lock(state_->mutex);
        return state_->opened;
    }

private:
    struct state {
        std::mutex mutex;
        std::vector<std::string> opened;
        bool result = true;
    };
    std::shared_ptr<state> state_;
};

}  // namespace devflow::testing
