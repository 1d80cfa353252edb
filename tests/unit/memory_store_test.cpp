// memory_store: the in-memory token store whose copies share records and locks,
// so one store can stand for the disk that two processes share.
#include <devflow/concepts.hpp>
#include <devflow/memory_store.hpp>

#include "catch.hpp"
#include "store_lock_checks.hpp"

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

static_assert(devflow::token_store<devflow::memory_store>);
static_assert(devflow::lockable_store<devflow::memory_store>);
static_assert(!devflow::quarantining_store<devflow::memory_store>);

namespace {
constexpr const char* canary = "CANARY-memory-store-3d8f1a";
constexpr const char* canary_two = "CANARY-memory-store-9e2b47";
}  // namespace

TEST_CASE("memory_store keeps one record per key and forgets erased ones", "[memory_store]") {
    devflow::memory_store store;
    CHECK_FALSE(store.load("k").has_value());

    store.save("k", devflow::secret(canary));
    store.save("other", devflow::secret(canary_two));
    REQUIRE(store.load("k"));
    CHECK(store.load("k")->reveal() == canary);

    store.save("k", devflow::secret(canary_two));
    CHECK(store.load("k")->reveal() == canary_two);

    store.erase("k");
    CHECK_FALSE(store.load("k").has_value());
    REQUIRE(store.load("other"));
    CHECK(store.load("other")->reveal() == canary_two);
    CHECK_NOTHROW(store.erase("never saved"));
}

TEST_CASE("memory_store copies share the same records and save count", "[memory_store]") {
    devflow::memory_store first;
    devflow::memory_store second = first;  // two "processes", one disk
    const devflow::memory_store unrelated;

    first.save("k", devflow::secret(canary));
    REQUIRE(second.load("k"));
    CHECK(second.load("k")->reveal() == canary);
    CHECK_FALSE(unrelated.load("k").has_value());

    second.erase("k");
    CHECK_FALSE(first.load("k").has_value());

    second.save("k", devflow::secret(canary_two));
    CHECK(first.saves() == 2);
    CHECK(second.saves() == 2);
    CHECK(unrelated.saves() == 0);
}

TEST_CASE("memory_store returns a copy that later saves do not change", "[memory_store]") {
    devflow::memory_store store;
    store.save("k", devflow::secret(canary));
    const std::optional<devflow::secret> before = store.load("k");
    store.save("k", devflow::secret(canary_two));
    REQUIRE(before);
    CHECK(before->reveal() == canary);
}

TEST_CASE("memory_store is safe to use from many threads at once", "[memory_store]") {
    devflow::memory_store store;
    constexpr int threads = 4;
    constexpr int saves_each = 500;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([store, t]() mutable {
            const std::string key = "key-" + std::to_string(t % 2);
            for (int i = 0; i < saves_each; ++i) {
                store.save(key, devflow::secret(std::to_string(i)));
                (void)store.load(key);
            }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(store.saves() == static_cast<std::size_t>(threads * saves_each));
    REQUIRE(store.load("key-0"));
    CHECK(store.load("key-0")->reveal() == std::to_string(saves_each - 1));
}

TEST_CASE("memory_store lock excludes a second lock on the same key from any copy", "[memory_store]") {
    devflow::memory_store store;
    devflow::memory_store copy = store;

    // The lock is not the records' mutex: the holder may still load and save.
    {
        const auto held = store.lock("k");
        store.save("k", devflow::secret(canary));
        CHECK(copy.load("k").has_value());
    }
    devflow_test::check_exclusive_key_locks(store, copy);
}

TEST_CASE("memory_store lock guards release on destruction and on move assignment", "[memory_store]") {
    devflow::memory_store store;
    {
        const auto held = store.lock("a");
        CHECK_FALSE(store.try_lock("a").has_value());
    }
    CHECK(store.try_lock("a").has_value());

    devflow::memory_store::key_lock guard = store.lock("a");
    guard = store.lock("b");  // lets go of "a", holds "b"
    CHECK(store.try_lock("a").has_value());
    CHECK_FALSE(store.try_lock("b").has_value());

    devflow::memory_store::key_lock empty;
    CHECK_FALSE(empty.owns_lock());
    empty.unlock();  // harmless
}
