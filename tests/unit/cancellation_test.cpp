// Cancellation (docs/security.md S7): a std::stop_token stops the
// flow before any request, prompt or browser launch, and ends a wait for
// another thread's or process's operation; after such a wait the flow reads
// the store again before it decides to prompt.
#include "flow_fixture.hpp"

#include <functional>
#include <future>
#include <latch>
#include <thread>

using namespace devflow_test;
using devflow::errc;

namespace {

/// Calls flow->authorization_header(stop) on a thread that is blocked
/// behind another operation, asks it to stop 20 ms later, and says whether
/// the call ended within two seconds of real time and with which error.
/// `release` lets the other operation finish (so the thread always ends).
struct cancelled_wait {
    bool ended_in_time = false;
    std::optional<errc> error;
};

template <class Flow>
cancelled_wait cancel_blocked_call(Flow& flow, const std::function<void()>& release) {
    std::stop_source stop;
    std::promise<void> call_done;
    auto done = call_done.get_future();
    cancelled_wait out;
    std::jthread caller([&] {
        try {
            flow.authorization_header(stop.get_token());
        } catch (const devflow::error& e) {
            out.error = e.value();
        }
        call_done.set_value();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    stop.request_stop();
    out.ended_in_time = done.wait_for(std::chrono::seconds{2}) == std::future_status::ready;
    release();
    caller.join();
    return out;
}

}  // namespace

TEST_CASE("with the stop already requested login sends nothing and prompts nothing and opens no "
          "browser (docs/security.md S7)",
          "[cancellation][security]") {
    fixture f;
    auto flow = f.make_flow();
    std::stop_source stop;
    stop.request_stop();
    expect_error([&] { flow->login(stop.get_token()); }, errc::cancelled);
    expect_error([&] { flow->authorization_header(stop.get_token()); }, errc::cancelled);
    CHECK(f.http.requests().empty());
    CHECK(f.prompts.empty());
    CHECK(f.browser.opened().empty());
}

TEST_CASE("a stop requested while the browser opens prevents the prompt and every poll "
          "(docs/security.md S7)",
          "[cancellation][security]") {
    fixture f;
    auto flow = f.make_flow();
    std::stop_source stop;
    // A prompt callback that is asked to stop right when it is shown: no poll follows.
    flow->on_prompt([&](const devflow::prompt_info&) { stop.request_stop(); });
    expect_error([&] { flow->login(stop.get_token()); }, errc::cancelled);
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.polls().empty());
}

TEST_CASE("a wait for another thread's sign-in can be cancelled "
          "(docs/security.md S7)",
          "[cancellation][security]") {
    fixture f;
    auto flow = f.make_flow();
    std::latch prompt_shown(1);
    std::latch may_approve(1);
    flow->on_prompt([&](const devflow::prompt_info&) {
        prompt_shown.count_down();
        may_approve.wait();  // the user takes their time; the flow is busy meanwhile
    });
    std::jthread first([&] { flow->login(); });
    prompt_shown.wait();

    const cancelled_wait second = cancel_blocked_call(*flow, [&] { may_approve.count_down(); });
    first.join();
    CHECK(second.ended_in_time);
    CHECK(second.error == errc::cancelled);
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("a wait for another process's store lock can be cancelled "
          "(docs/security.md S7)",
          "[cancellation][security]") {
    fixture f;
    auto flow = f.make_flow();
    flow->login();
    f.clock.advance(250s);  // inside the margin: the next call must refresh, under the lock
    auto held = f.store.lock(flow->store_key());  // another process is busy with the record

    const cancelled_wait call = cancel_blocked_call(*flow, [&] { held.unlock(); });
    CHECK(call.ended_in_time);
    CHECK(call.error == errc::cancelled);
    CHECK(f.refreshes().empty());
}

TEST_CASE("a flow that waited for another process's sign-in uses its tokens instead of "
          "prompting again (docs/security.md S7)",
          "[cancellation][security][concurrency]") {
    fixture f;
    auto other = f.make_flow();  // "another process" on the same store
    auto flow = f.make_flow();
    // The other process holds the lock while it signs in...
    auto held = f.store.lock(flow->store_key());
    std::promise<void> login_done;
    auto done = login_done.get_future();
    std::jthread caller([&] {
        flow->login();
        login_done.set_value();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    CHECK(f.server.device_authorizations() == 0);  // it waits instead of prompting
    // ... and writes its tokens before it lets go (as its own flow would).
    held.unlock();
    other->login();
    done.wait();
    caller.join();
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.prompts.size() == 1);
}
