// detail/polling.hpp: when to poll next (RFC 8628 §3.4–3.5). Every time is a
// steady-clock time counted from an arbitrary origin.
#include <devflow/detail/polling.hpp>

#include "catch.hpp"

#include <chrono>
#include <optional>

using devflow::detail::poll_schedule;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

using time_point = poll_schedule::time_point;

/// The origin of virtual steady time: when the device authorization answer arrived.
const time_point t0{seconds{1000}};

constexpr milliseconds margin{250};

/// A schedule for a 600 s device code polled every 5 s, backing off to at most 60 s.
poll_schedule make_schedule(seconds interval = seconds{5}, seconds max_backoff = seconds{60}) {
    return poll_schedule{t0, seconds{600}, interval, margin, max_backoff};
}

}  // namespace

TEST_CASE("the first poll is one interval plus the margin after the answer (RFC 8628 §3.4)",
          "[polling]") {
    const auto s = make_schedule();
    CHECK(s.next_poll() - t0 == seconds{5} + margin);
    CHECK(s.deadline() == t0 + seconds{600});
    CHECK(s.interval() == seconds{5});
    CHECK(s.failures() == 0);
    CHECK_FALSE(s.expired());
}

TEST_CASE("authorization_pending keeps the pace counted from when the answer arrived",
          "[polling]") {
    auto s = make_schedule();
    // The poll was sent at 5.25 s and its answer took 2 s to come back.
    const time_point answered = t0 + milliseconds{7250};
    s.on_pending(answered);
    CHECK(s.next_poll() - answered == seconds{5} + margin);
    CHECK(s.interval() == seconds{5});
    s.on_pending(answered + seconds{6});
    CHECK(s.next_poll() - answered == seconds{11} + margin);
}

TEST_CASE("slow_down adds 5 s to this and every later wait (RFC 8628 §3.5)", "[polling]") {
    auto s = make_schedule();
    s.on_slow_down(t0 + seconds{5}, std::nullopt);
    CHECK(s.interval() == seconds{10});
    CHECK(s.next_poll() - t0 == seconds{15} + s.margin());
    // Cumulative: a second slow_down raises it again.
    s.on_slow_down(t0 + seconds{15}, std::nullopt);
    CHECK(s.interval() == seconds{15});
    CHECK(s.next_poll() - t0 == seconds{30} + s.margin());
    // authorization_pending afterwards keeps the raised interval.
    s.on_pending(t0 + seconds{30});
    CHECK(s.interval() == seconds{15});
    CHECK(s.next_poll() - t0 == seconds{45} + s.margin());
}

TEST_CASE("slow_down widens the safety margin to a quarter of the raised interval", "[polling]") {
    auto s = make_schedule();
    CHECK(s.margin() == margin);
    s.on_slow_down(t0 + seconds{5}, std::nullopt);
    CHECK(s.margin() == milliseconds{2500});
    CHECK(s.next_poll() - t0 == milliseconds{17500});
    s.on_slow_down(t0 + seconds{20}, std::nullopt);
    CHECK(s.margin() == milliseconds{3750});
    // The widened margin stays for pending answers and for backoff too.
    s.on_pending(t0 + seconds{40});
    CHECK(s.next_poll() - t0 == milliseconds{58750});
    s.on_retry(t0 + seconds{60}, std::nullopt);
    CHECK(s.next_poll() - t0 == milliseconds{93750});
}

TEST_CASE("slow_down keeps a configured margin that is already wider", "[polling]") {
    poll_schedule s{t0, seconds{600}, seconds{5}, milliseconds{4000}, seconds{60}};
    s.on_slow_down(t0 + seconds{5}, std::nullopt);
    CHECK(s.margin() == milliseconds{4000});
    CHECK(s.next_poll() - t0 == seconds{19});
}

TEST_CASE("slow_down takes the body interval when it is larger than the raise", "[polling]") {
    auto s = make_schedule();
    s.on_slow_down(t0 + seconds{5}, seconds{12});
    CHECK(s.interval() == seconds{12});
    CHECK(s.next_poll() - t0 == seconds{17} + s.margin());
}

TEST_CASE("slow_down ignores a body interval smaller than the raise", "[polling]") {
    auto s = make_schedule();
    s.on_slow_down(t0 + seconds{5}, seconds{8});
    CHECK(s.interval() == seconds{10});
    // A later body interval below the floor never lowers it: the 5 s raise still applies.
    s.on_slow_down(t0 + seconds{15}, seconds{1});
    CHECK(s.interval() == seconds{15});
    s.on_slow_down(t0 + seconds{30}, seconds{0});
    CHECK(s.interval() == seconds{20});
    CHECK(s.next_poll() - t0 == seconds{50} + s.margin());
}

TEST_CASE("transient failures back off by doubling up to max_backoff", "[polling]") {
    auto s = make_schedule();
    time_point at = t0 + seconds{5};
    const seconds expected[] = {seconds{10}, seconds{20}, seconds{40}, seconds{60}, seconds{60}};
    int n = 0;
    for (const seconds wait : expected) {
        s.on_retry(at, std::nullopt);
        ++n;
        INFO("failure " << n);
        CHECK(s.failures() == n);
        CHECK(s.next_poll() - at == wait + margin);
        at = s.next_poll();
    }
    // A normal answer resets the backoff.
    s.on_pending(at);
    CHECK(s.failures() == 0);
    CHECK(s.next_poll() - at == seconds{5} + margin);
    s.on_retry(at, std::nullopt);
    CHECK(s.next_poll() - at == seconds{10} + margin);
}

TEST_CASE("backoff never waits less than a raised interval even above max_backoff", "[polling]") {
    auto s = make_schedule(seconds{5}, seconds{8});
    s.on_slow_down(t0, seconds{30});
    REQUIRE(s.interval() == seconds{30});
    for (int i = 0; i < 3; ++i) {
        s.on_retry(t0, std::nullopt);
        CHECK(s.next_poll() - t0 == seconds{30} + s.margin());
    }
}

TEST_CASE("backoff after slow_down starts from the raised interval", "[polling]") {
    auto s = make_schedule();
    s.on_slow_down(t0, std::nullopt);  // 10 s
    s.on_retry(t0, std::nullopt);
    CHECK(s.next_poll() - t0 == seconds{20} + s.margin());
    // slow_down resets the count of consecutive failures.
    CHECK(s.failures() == 1);
    s.on_slow_down(t0, std::nullopt);  // 15 s
    CHECK(s.failures() == 0);
}

TEST_CASE("a Retry-After longer than the backoff wins and a shorter one does not", "[polling]") {
    auto s = make_schedule();
    s.on_retry(t0, seconds{120});
    CHECK(s.next_poll() - t0 == seconds{120} + margin);
    auto t = make_schedule();
    t.on_retry(t0, seconds{3});
    CHECK(t.next_poll() - t0 == seconds{10} + margin);
    auto u = make_schedule();
    u.on_retry(t0, seconds{0});
    CHECK(u.next_poll() - t0 == seconds{10} + margin);
}

TEST_CASE("expired is true once the next poll falls at or after the deadline", "[polling]") {
    poll_schedule s{t0, seconds{10}, seconds{5}, milliseconds{0}, seconds{60}};
    CHECK_FALSE(s.expired());             // next at 5 s, deadline 10 s
    s.on_pending(t0 + seconds{4});
    CHECK_FALSE(s.expired());             // next at 9 s
    s.on_pending(t0 + seconds{5});
    CHECK(s.next_poll() == s.deadline());
    CHECK(s.expired());                   // next exactly at the deadline
    s.on_pending(t0 + seconds{7});
    CHECK(s.expired());                   // after it
}

TEST_CASE("a Retry-After reaching past the deadline makes the schedule expired", "[polling]") {
    auto s = make_schedule();
    s.on_retry(t0 + seconds{500}, seconds{200});
    CHECK(s.expired());
}

TEST_CASE("the deadline is measured from the answer whatever happens later", "[polling]") {
    auto s = make_schedule();
    s.on_slow_down(t0 + seconds{100}, seconds{50});
    s.on_retry(t0 + seconds{200}, seconds{30});
    s.on_pending(t0 + seconds{300});
    CHECK(s.deadline() == t0 + seconds{600});
}
