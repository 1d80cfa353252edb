// Cancellation (docs/security.md S7): a std::stop_token stops the
// flow before any request, prompt or browser launch, and ends a wait for
// another thread's or process's operation; after such a wait the flow reads
// the store again before it decides to prompt.
#include "flow_fixture.hpp"
#include "hooked_store.hpp"

#include <functional>
#include <future>
#include <optional>
#include <string_view>
#include <latch>
#include <thread>

using namespace devflow_test;
using devflow::errc;

namespace {

/// Calls flow->authorization_header(stop) on a thread that is blocked
/// behind another operation, asks it to stop once `reached()` says the call
/// has reached its wait, and says whether the call ended within two seconds
/// of real time and with which error. `release` lets the other operation
/// finish (so the thread always ends). No sleep: a wait that ignored the
/// stop would hold the call until `release`, whenever the stop came.
struct cancelled_wait {
    bool ended_in_time = false;
    std::optional<errc> error;
};

template <class Flow>
cancelled_wait cancel_blocked_call(Flow& flow, const std::function<void()>& reached,
                                   const std::function<void()>& release) {
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
    reached();
    stop.request_stop();
    out.ended_in_time = done.wait_for(std::chrono::seconds{2}) == std::future_status::ready;
    release();
    caller.join();
    return out;
}

/// A view of a store that shares its records but takes no lock: "another
/// process" that already holds the lock (the test holds it for it) writes
/// through this.
template <class Store>
struct lock_free_view {
    Store inner;
    std::optional<devflow::secret> load(std::string_view key) { return inner.load(key); }
    void save(std::string_view key, const devflow::secret& record) { inner.save(key, record); }
    void erase(std::string_view key) { inner.erase(key); }
};

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

    // authorization_header checks no stop before the flow's mutex, so the
    // call meets the stop there whenever it comes: only a wait that gives up
    // on it ends the call before the release.
    const cancelled_wait second =
        cancel_blocked_call(*flow, [] {}, [&] { may_approve.count_down(); });
    first.join();
    CHECK(second.ended_in_time);
    CHECK(second.error == errc::cancelled);
    CHECK(f.server.device_authorizations() == 1);
}

TEST_CASE("a wait for another process's store lock can be cancelled "
          "(docs/security.md S7)",
          "[cancellation][security]") {
    fixture f;
    hooked_store<devflow::memory_store> store(f.store);
    auto flow = f.make_flow_with(store, f.server.config());
    flow->login();
    f.clock.advance(250s);  // inside the margin: the next call must refresh, under the lock
    auto held = f.store.lock(flow->store_key());  // another process is busy with the record

    // The stop comes once the call is inside the store's lock(), past the
    // flow's own stop checks: only a lock wait that gives up on it ends the
    // call before the release.
    std::latch asked_for_lock(1);
    store.before_next_lock([&] { asked_for_lock.count_down(); });
    const cancelled_wait call =
        cancel_blocked_call(*flow, [&] { asked_for_lock.wait(); }, [&] { held.unlock(); });
    CHECK(call.ended_in_time);
    CHECK(call.error == errc::cancelled);
    CHECK(f.refreshes().empty());
}

TEST_CASE("a flow that waited for another process's sign-in uses its tokens instead of "
          "prompting again (docs/security.md S7)",
          "[cancellation][security][concurrency]") {
    fixture f;
    // "Another process" on the same records; the test holds the store lock
    // for it, so it writes through a view that takes none.
    auto other = f.make_flow_with(lock_free_view<devflow::memory_store>{f.store}, f.server.config());
    hooked_store<devflow::memory_store> store(f.store);
    auto flow = f.make_flow_with(store, f.server.config());
    // The other process holds the lock while it signs in...
    auto held = f.store.lock(flow->store_key());
    std::latch asked_for_lock(1);
    store.before_next_lock([&] { asked_for_lock.count_down(); });
    std::promise<void> login_done;
    auto done = login_done.get_future();
    std::jthread caller([&] {
        flow->login();
        login_done.set_value();
    });
    asked_for_lock.wait();  // the flow found no session and went for the lock
    CHECK(f.server.device_authorizations() == 0);  // it waits instead of prompting
    // ... signs in and writes its tokens before it lets go.
    other->login();
    held.unlock();
    done.wait();
    caller.join();
    // The waiting flow read the store again under the lock and used them.
    CHECK(f.server.device_authorizations() == 1);
    CHECK(f.prompts.size() == 1);
    CHECK(flow->authorization_header() == other->authorization_header());
}
