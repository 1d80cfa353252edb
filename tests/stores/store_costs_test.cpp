// The cost of a load, a save and a lock per store, for the table in
// docs/storage.md ("Figures"): every store devflow ships, on the real service
// it uses (a temporary directory, the private keyring, a three-member etcd
// cluster on 127.0.0.1), with the same record: 3 KiB, about the size of a
// Keycloak session (access, refresh and ID tokens of about 1 KiB each).
// It prints figures and asserts only that each store gives the record back:
// speed is never a test assertion here (the machines are noisy).
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/etcd_store.hpp>
#include <devflow/adapters/sealed_store.hpp>
#include <devflow/file_store.hpp>
#include <devflow/memory_store.hpp>

#include "catch.hpp"
#include "etcd_cluster.hpp"
#include "private_keyring.hpp"
#include "temp_dir.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace {

using std::chrono::steady_clock;

/// Milliseconds per call of `f` over `rounds` calls.
template <class F>
double per_call_ms(int rounds, F&& f) {
    const auto start = steady_clock::now();
    for (int i = 0; i < rounds; ++i) f();
    return std::chrono::duration<double, std::milli>(steady_clock::now() - start).count() / rounds;
}

/// Measures `store` and prints one row of the table.
template <class Store>
void measure(const char* name, Store&& store, int rounds) {
    const devflow::secret record(std::string(3072, 'r'));
    const std::string key = "https://issuer.example\nclient\nopenid";
    store.save(key, record);  // etcd_store writes only over a record it has read
    const double save = per_call_ms(rounds, [&] { store.save(key, record); });
    const double load = per_call_ms(rounds, [&] { (void)store.load(key); });
    const double lock = per_call_ms(rounds, [&] { (void)store.lock(key); });
    const auto back = store.load(key);
    REQUIRE(back.has_value());
    CHECK(back->reveal() == record.reveal());
    store.erase(key);
    std::printf("store costs: %-40s load %8.3f ms  save %8.3f ms  lock+unlock %8.3f ms  (%d rounds)\n", name, load,
                save, lock, rounds);
}

devflow::secret sealing_key() { return devflow::secret(std::string(32, '\x5a')); }

}  // namespace

TEST_CASE("store costs: a load a save and a lock per store are printed for docs/storage.md",
          "[figures][etcd][keyring]") {
    using devflow::sealed_store;
    measure("memory_store", devflow::memory_store{}, 2000);
    devflow_test::temp_dir dir;
    measure("file_store", devflow::file_store(dir.path() / "files"), 500);
    measure("sealed_store<file_store>",
            sealed_store<devflow::file_store>(devflow::file_store(dir.path() / "sealed"), sealing_key()), 500);

    measure("secret_service_store (gnome-keyring)", devflow_test::keyring_store(), 100);

    devflow_test::etcd_cluster cluster;
    devflow::etcd_options o;
    o.endpoints = cluster.endpoints();
    o.prefix = "/devflow-costs";
    using etcd = devflow::etcd_store<devflow::curl_http>;
    measure("etcd_store<curl_http> (3 members)", etcd(devflow::curl_http{}, o), 50);
    measure("sealed_store<etcd_store<curl_http>>", sealed_store<etcd>(etcd(devflow::curl_http{}, o), sealing_key()),
            50);
}
