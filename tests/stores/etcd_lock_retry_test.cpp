// etcd_store against a scripted etcd (no cluster), for what a real cluster
// cannot be made to do on cue, or for what the store sends:
// - a lock transaction whose answer was lost and that was sent again finds
//   the lock key already carrying this store's own lease. That is this
//   store's lock, taken by the first attempt: it must not wait for itself
//   until lock_timeout;
// - a refused save reads back only the record's revision, never its value
//   (the tokens, when the records are not sealed);
// - a save whose answer was lost after etcd applied it, sent again to the
//   next member and refused by its own write, is a success; a record that
//   another writer changed is still refused;
// - a lock wait on a cluster that does not answer ends when its stop is
//   requested, not after retry_for.
#include <devflow/adapters/etcd_store.hpp>

#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>
#include <string>

using namespace std::chrono_literals;

namespace {

/// Models devflow::http_client: answers etcd's gateway paths from a script
/// (copies share it, as the lease keep-alive takes a copy).
struct scripted_etcd {
    struct counts {
        std::atomic<int> lock_txns{0};
        std::atomic<int> revokes{0};
        std::string last_txn;  ///< the body of the last /v3/kv/txn
    };
    std::shared_ptr<counts> seen = std::make_shared<counts>();

    devflow::http_response send(const devflow::http_request& r) {
        devflow::http_response a;
        a.status = 200;
        const std::string& url = r.url;
        auto ends = [&](std::string_view tail) {
            return url.size() >= tail.size() && url.compare(url.size() - tail.size(), tail.size(), tail) == 0;
        };
        if (ends("/v3/lease/grant")) {
            a.body = devflow::secret{R"({"ID":"7587","TTL":"10"})"};
        } else if (ends("/v3/lease/keepalive")) {
            a.body = devflow::secret{R"({"result":{"ID":"7587","TTL":"10"}})"};
        } else if (ends("/v3/lease/revoke")) {
            ++seen->revokes;
            a.body = devflow::secret{"{}"};
        } else if (ends("/v3/kv/txn")) {
            ++seen->lock_txns;
            seen->last_txn = std::string(r.body.reveal());
            // Refused: the lock key exists, and it carries lease 7587, the one
            // this store was just granted (its first attempt took the lock).
            a.body = devflow::secret{
                R"({"header":{"revision":"12"},"succeeded":false,"responses":[{"response_range":)"
                R"({"kvs":[{"key":"L2RldmZsb3ctdGVzdC9sb2NrL2s=","value":"aG9zdA==",)"
                R"("create_revision":"11","mod_revision":"11","version":"1","lease":"7587"}],"count":"1"}}]})"};
        } else {
            a.status = 404;
            a.body = devflow::secret{R"({"error":"not scripted","code":5})"};
        }
        return a;
    }
};

}  // namespace

TEST_CASE("an etcd lock whose key already carries this store's own lease is taken at once",
          "[etcd]") {
    devflow::etcd_options o;
    o.endpoints = {"http://127.0.0.1:2379"};
    o.prefix = "/devflow-test";
    o.lease_ttl = 10s;
    o.lock_timeout = 2s;
    scripted_etcd http;
    devflow::etcd_store<scripted_etcd> store(http, o);
    {
        auto lock = store.lock("k");
        CHECK(lock.owns_lock());
        CHECK(http.seen->lock_txns == 1);  // no wait for itself (that ends in storage_failed)
    }
    CHECK(http.seen->revokes == 1);  // released by revoking its lease
}

TEST_CASE("a refused etcd save reads back the record's revision and never its value", "[etcd]") {
    devflow::etcd_options o;
    o.endpoints = {"http://127.0.0.1:2379"};
    o.prefix = "/devflow-test";
    scripted_etcd http;
    devflow::etcd_store<scripted_etcd> store(http, o);
    CHECK_THROWS_AS(store.save("k", devflow::secret{std::string_view{"a record"}}), devflow::error);
    const std::string& txn = http.seen->last_txn;
    INFO(txn);
    const auto failure = txn.find("\"failure\":");
    REQUIRE(failure != std::string::npos);
    // Both reads of the failure branch (the record, then the lock) are keys only.
    const auto first = txn.find("request_range", failure);
    REQUIRE(first != std::string::npos);
    const auto second = txn.find("request_range", first + 1);
    REQUIRE(second != std::string::npos);
    CHECK(txn.substr(first, second - first).find("\"keys_only\":true") != std::string::npos);
    CHECK(txn.find("\"keys_only\":true", second) != std::string::npos);
}

namespace {

/// An etcd whose first transaction is applied but its answer lost (the
/// connection drops); the resent one is refused by that write. The record
/// it then holds is `holds` (what this store wrote, or another writer's).
struct lost_answer_etcd {
    struct state {
        std::atomic<int> txns{0};
        std::atomic<int> ranges{0};
        std::string holds;
    };
    std::shared_ptr<state> seen = std::make_shared<state>();

    devflow::http_response send(const devflow::http_request& r) {
        devflow::http_response a;
        const std::string& url = r.url;
        if (url.find("/v3/kv/txn") != std::string::npos) {
            if (++seen->txns == 1) {
                a.transport = devflow::transport_error::connect;
                return a;
            }
            a.status = 200;
            a.body = devflow::secret{
                R"({"header":{"revision":"13"},"succeeded":false,"responses":[{"response_range":)"
                R"({"kvs":[{"key":"eA==","create_revision":"13","mod_revision":"13","version":"1"}],"count":"1"}},)"
                R"({"response_range":{"count":"0"}}]})"};
        } else if (url.find("/v3/kv/range") != std::string::npos) {
            ++seen->ranges;
            a.status = 200;
            a.body = devflow::secret{R"({"header":{"revision":"13"},"kvs":[{"key":"eA==","create_revision":"13",)"
                                     R"("mod_revision":"13","version":"1","value":")" +
                                     seen->holds + R"("}],"count":"1"})"};
        } else {
            a.status = 404;
            a.body = devflow::secret{R"({"error":"not scripted","code":5})"};
        }
        return a;
    }
};

devflow::etcd_options two_members() {
    devflow::etcd_options o;
    o.endpoints = {"http://127.0.0.1:2379", "http://127.0.0.1:2381"};
    o.prefix = "/devflow-test";
    o.retry_for = 5s;
    return o;
}

}  // namespace

TEST_CASE("an etcd save whose answer was lost and whose resend meets its own write succeeds", "[etcd]") {
    lost_answer_etcd http;
    http.seen->holds = "YSByZWNvcmQ=";  // base64("a record"): this store's write landed
    devflow::etcd_store<lost_answer_etcd> store(http, two_members());
    CHECK_NOTHROW(store.save("k", devflow::secret{std::string_view{"a record"}}));
    CHECK(http.seen->txns == 2);
    CHECK(http.seen->ranges == 1);
}

TEST_CASE("an etcd save refused by another writer's record is still refused after a lost answer", "[etcd]") {
    lost_answer_etcd http;
    http.seen->holds = "b3RoZXI=";  // base64("other"): another writer's record
    devflow::etcd_store<lost_answer_etcd> store(http, two_members());
    try {
        store.save("k", devflow::secret{std::string_view{"a record"}});
        FAIL("the save was not refused");
    } catch (const devflow::error& e) {
        CHECK(e.value() == devflow::errc::storage_failed);
        CHECK(std::string(e.what()).find("changed in etcd") != std::string::npos);
    }
}

namespace {

/// An etcd none of whose members answers; the first request asks `stop`
/// to stop (as a user's Ctrl-C would, mid-wait).
struct silent_etcd {
    std::shared_ptr<std::atomic<int>> sends = std::make_shared<std::atomic<int>>(0);
    std::stop_source* stop = nullptr;

    devflow::http_response send(const devflow::http_request&) {
        if (++*sends == 1 && stop != nullptr) stop->request_stop();
        devflow::http_response a;
        a.transport = devflow::transport_error::connect;
        return a;
    }
};

}  // namespace

TEST_CASE("an etcd lock wait on a cluster that does not answer ends when its stop is requested",
          "[etcd]") {
    std::stop_source stop;
    silent_etcd http;
    http.stop = &stop;
    devflow::etcd_options o = two_members();
    o.retry_for = 600s;  // without the stop, ten minutes of retries
    devflow::etcd_store<silent_etcd> store(http, o);
    try {
        (void)store.lock("k", stop.get_token());
        FAIL("the lock was taken");
    } catch (const devflow::error& e) {
        CHECK(e.value() == devflow::errc::cancelled);
    }
    // One round over the two members, then the stop ends the wait.
    CHECK(*http.sends <= 2);
}
