// etcd_store's lock against a scripted etcd (no cluster): a lock transaction
// whose answer was lost and that was sent again finds the lock key already
// carrying this store's own lease. That is this store's lock, taken by the
// first attempt: it must not wait for itself until lock_timeout.
#include <devflow/adapters/etcd_store.hpp>

#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

using namespace std::chrono_literals;

namespace {

/// Models devflow::http_client: answers etcd's gateway paths from a script
/// (copies share it, as the lease keep-alive takes a copy).
struct scripted_etcd {
    struct counts {
        std::atomic<int> lock_txns{0};
        std::atomic<int> revokes{0};
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
    const auto started = std::chrono::steady_clock::now();
    {
        auto lock = store.lock("k");
        CHECK(lock.owns_lock());
        CHECK(std::chrono::steady_clock::now() - started < 1s);  // no wait for itself
        CHECK(http.seen->lock_txns == 1);
    }
    CHECK(http.seen->revokes == 1);  // released by revoking its lease
}
