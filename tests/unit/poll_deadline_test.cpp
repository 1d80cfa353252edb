// The local deadline holds even when a wait overruns it: a process that was
// stopped (Ctrl-Z, a debugger) or starved of CPU wakes up past expires_in and
// must give up locally instead of sending a poll with a dead device code.
#include "flow_fixture.hpp"

using namespace devflow_test;
using devflow::errc;

TEST_CASE("a wait that overruns the deadline ends in expired_token without a late poll (RFC 8628 §3.5)",
          "[poll]") {
    devflow::testing::server_options o;
    o.device_code_lifetime = 30s;
    o.approve_on_poll = 1000;  // never approves
    fixture f{o};
    auto flow = f.make_flow();
    f.clock.set_sleep_scale(3.0);  // every wait lasts three times what was asked
    const auto e = expect_error([&] { flow->login(); }, errc::expired_token);
    CHECK(e.server_error().empty());  // given up locally, not told by the server
    const auto polls = f.polls();
    // Waits of 5 s last 15 s: one poll at 15; the next wake-up, at 30, is
    // past the deadline.
    REQUIRE(polls.size() == 1);
    CHECK(polls[0].seconds() == Approx(15.0));
}
