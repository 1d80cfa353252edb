// system_clock: real time, and a sleep that a std::stop_token cuts short.
#include <devflow/concepts.hpp>
#include <devflow/system_clock.hpp>

#include "catch.hpp"

#include <chrono>
#include <future>
#include <stop_token>
#include <thread>
#include <type_traits>

static_assert(devflow::waitable_clock<devflow::system_clock>);
static_assert(std::is_empty_v<devflow::system_clock>, "system_clock must cost nothing in the flow");

TEST_CASE("system_clock reads the wall clock and the steady clock", "[system_clock]") {
    const devflow::system_clock clock;
    const auto wall_before = std::chrono::system_clock::now();
    const auto steady_before = std::chrono::steady_clock::now();
    const auto wall = clock.now();
    const auto steady = clock.steady_now();
    const auto wall_after = std::chrono::system_clock::now();
    const auto steady_after = std::chrono::steady_clock::now();
    CHECK(wall_before <= wall);
    CHECK(wall <= wall_after);
    CHECK(steady_before <= steady);
    CHECK(steady <= steady_after);
}

TEST_CASE("system_clock sleep_for returns false at once when a stop was already requested", "[system_clock]") {
    const devflow::system_clock clock;
    std::stop_source source;
    source.request_stop();
    const auto before = std::chrono::steady_clock::now();
    // An hour-long wait that must not wait at all.
    CHECK_FALSE(clock.sleep_for(std::chrono::hours(1), source.get_token()));
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::minutes(1));
}

TEST_CASE("system_clock sleep_for returns false when a stop is requested during the wait", "[system_clock]") {
    const devflow::system_clock clock;
    std::stop_source source;
    std::promise<void> started;
    std::future<bool> result = std::async(std::launch::async, [&] {
        started.set_value();
        return clock.sleep_for(std::chrono::hours(1), source.get_token());
    });
    started.get_future().wait();
    source.request_stop();  // before or during the wait: either way it ends now
    CHECK_FALSE(result.get());
}

TEST_CASE("system_clock sleep_for with no duration returns true without waiting", "[system_clock]") {
    const devflow::system_clock clock;
    std::stop_source source;
    CHECK(clock.sleep_for(std::chrono::steady_clock::duration::zero(), source.get_token()));
    CHECK(clock.sleep_for(-std::chrono::seconds(5), source.get_token()));
    CHECK(clock.sleep_for(std::chrono::seconds(0), std::stop_token{}));  // a token with no source
}

TEST_CASE("system_clock sleep_for waits the full duration and then returns true", "[system_clock]") {
    // The clock under test does the waiting: two milliseconds of real time.
    const devflow::system_clock clock;
    std::stop_source source;
    const auto wait = std::chrono::milliseconds(2);
    const auto before = std::chrono::steady_clock::now();
    CHECK(clock.sleep_for(wait, source.get_token()));
    CHECK(std::chrono::steady_clock::now() - before >= wait);
}

TEST_CASE("system_clock coarse_now is the wall time of the last tick", "[system_clock]") {
    devflow::system_clock clock;
    for (int i = 0; i < 10000; ++i) {
        const auto before = clock.now();
        const auto coarse = clock.coarse_now();
        const auto after = clock.now();
        // Never ahead of the fine clock, and behind it by a tick or a few
        // (well under the one-second guard authorization_header() allows).
        REQUIRE(coarse <= after);
        REQUIRE(before - coarse < std::chrono::milliseconds{250});
    }
}
