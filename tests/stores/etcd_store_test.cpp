// etcd_store (adapters/etcd) against a real three-member etcd cluster on
// 127.0.0.1, started and stopped by each case (etcd_cluster.hpp).
#include <devflow/adapters/etcd_store.hpp>
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/sealed_store.hpp>

#include "canary.hpp"
#include "catch.hpp"
#include "etcd_cluster.hpp"

#include <csignal>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

using devflow::errc;
using devflow::secret;
using devflow_test::expect_error;
using namespace std::chrono_literals;

// curl_http: cpp-httplib cannot read etcd's error answers (chunked, with
// HTTP trailers), so it would see each one as a transport failure.
using etcd_store = devflow::etcd_store<devflow::curl_http>;

static_assert(devflow::token_store<etcd_store>);
static_assert(devflow::lockable_store<etcd_store>);
static_assert(devflow::lockable_store<devflow::sealed_store<etcd_store>>);

namespace {

constexpr const char* first_record = "CANARY-etcd-record-1f3a";
constexpr const char* second_record = "CANARY-etcd-record-8b2c";

devflow::curl_http transport() {
    devflow::curl_http::options o;
    o.connect_timeout = 500ms;
    o.total_timeout = 3s;
    return devflow::curl_http(o);
}

etcd_store make_store(const devflow_test::etcd_cluster& cluster, std::chrono::milliseconds retry_for = 10s) {
    devflow::etcd_options o;
    o.endpoints = cluster.endpoints();
    o.prefix = "/devflow-test";
    o.lease_ttl = 2s;
    o.lock_timeout = 10s;
    o.retry_for = retry_for;
    return etcd_store(transport(), o);
}

/// Revokes a lease behind its holder's back, as its expiry would.
void revoke(const devflow_test::etcd_cluster& cluster, std::int64_t lease) {
    devflow::http_request r;
    r.url = cluster.endpoints().front() + "/v3/lease/revoke";
    r.body = secret("{\"ID\":\"" + std::to_string(lease) + "\"}");
    auto http = transport();
    const auto answer = http.send(r);
    REQUIRE(answer);
    REQUIRE(answer.status == 200);
}

std::vector<std::string> worker_args(const std::vector<std::string>& head, const devflow_test::etcd_cluster& c) {
    std::vector<std::string> argv{DEVFLOW_ETCD_WORKER};
    argv.insert(argv.end(), head.begin(), head.end());
    for (const auto& e : c.endpoints()) argv.push_back(e);
    return argv;
}

/// Starts an etcd_worker (`head` are its arguments before the endpoints) and
/// waits for its "locked <lease>" line.
std::unique_ptr<devflow_test::child_process> start_holder(const std::vector<std::string>& head,
                                                          const devflow_test::etcd_cluster& cluster) {
    devflow_test::child_options o;
    o.argv = worker_args(head, cluster);
    o.stdout_pipe = true;
    o.stderr_file = (cluster.directory() / "worker.log").string();
    auto worker = std::make_unique<devflow_test::child_process>(o);
    const auto line = worker->read_line(20s);
    REQUIRE(line);
    REQUIRE(line->rfind("locked ", 0) == 0);
    return worker;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("etcd_store saves loads and erases records", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto store = make_store(cluster);
    CHECK_FALSE(store.load("k").has_value());
    store.save("k", secret(first_record));
    auto other = make_store(cluster);  // another process
    REQUIRE(other.load("k"));
    CHECK(other.load("k")->reveal() == first_record);
    store.save("k", secret(second_record));  // its own write: still at the revision it knows
    CHECK(store.load("k")->reveal() == second_record);
    store.save("binary", secret(std::string("\0\xff\n\"\\", 5)));
    CHECK(store.load("binary")->reveal() == std::string("\0\xff\n\"\\", 5));
    store.erase("k");
    CHECK_FALSE(store.load("k").has_value());
    CHECK_FALSE(other.load("k").has_value());
    CHECK_NOTHROW(store.erase("never saved"));

    // Timing figures for docs/storage.md.
    const int rounds = 50;
    auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) store.save("bench", secret(first_record));
    const double save_ms = seconds_since(t) * 1000 / rounds;
    t = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) (void)store.load("bench");
    const double load_ms = seconds_since(t) * 1000 / rounds;
    t = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) (void)store.lock("bench");
    const double lock_ms = seconds_since(t) * 1000 / rounds;
    std::printf("etcd_store figures: load %.2f ms, save %.2f ms, lock+unlock %.2f ms\n", load_ms, save_ms, lock_ms);
}

TEST_CASE("etcd_store refuses a write over a record it has not read", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto a = make_store(cluster);
    auto b = make_store(cluster);
    CHECK_FALSE(a.load("k").has_value());
    CHECK_FALSE(b.load("k").has_value());
    a.save("k", secret(first_record));
    const auto e = expect_error([&] { b.save("k", secret(second_record)); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("changed in etcd since this store read it") != std::string::npos);
    CHECK(b.load("k")->reveal() == first_record);
    b.save("k", secret(second_record));  // after reading it again
    CHECK(a.load("k")->reveal() == second_record);
    auto fresh = make_store(cluster);
    expect_error([&] { fresh.save("k", secret(first_record)); }, errc::storage_failed);
}

TEST_CASE("etcd_store locks exclude another store", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto a = make_store(cluster);
    auto b = make_store(cluster);
    {
        auto held = a.lock("k");
        CHECK(held.owns_lock());
        CHECK_FALSE(b.try_lock("k").has_value());
        CHECK(b.try_lock("other").has_value());
        devflow::etcd_options quick = b.settings();
        quick.lock_timeout = 300ms;
        etcd_store impatient(transport(), quick);
        const auto e = expect_error([&] { (void)impatient.lock("k"); }, errc::storage_failed);
        CHECK(std::string(e.what()).find("held by pid") != std::string::npos);
        std::stop_source stop;
        stop.request_stop();
        expect_error([&] { (void)b.lock("k", stop.get_token()); }, errc::cancelled);
        std::this_thread::sleep_for(3s);  // past the 2 s lease: the keep-alive holds it
        CHECK_FALSE(held.lease_lost());
        CHECK_FALSE(b.try_lock("k").has_value());
    }
    auto taken = b.try_lock("k");
    REQUIRE(taken.has_value());
    CHECK(taken->owns_lock());
}

TEST_CASE("a killed lock holder frees the lock within its lease", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    const auto worker = start_holder({"hold", "/devflow-test", "k", "2"}, cluster);
    auto store = make_store(cluster);
    CHECK_FALSE(store.try_lock("k").has_value());
    ::kill(worker->pid(), SIGKILL);
    const auto killed = std::chrono::steady_clock::now();
    auto held = store.lock("k");
    const double takeover = seconds_since(killed);
    std::printf("etcd_store figures: takeover after a killed holder %.2f s (lease TTL 2 s)\n", takeover);
    CHECK(held.owns_lock());
    CHECK(takeover < 4.0);
}

TEST_CASE("a holder whose lease was revoked cannot overwrite a newer record", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto a = make_store(cluster);
    auto b = make_store(cluster);
    a.save("k", secret(first_record));
    auto a_lock = a.lock("k");
    REQUIRE(a.load("k"));
    revoke(cluster, a_lock.lease_id());  // as if a had stalled past its lease
    {
        auto b_lock = b.lock("k");
        REQUIRE(b.load("k"));
        b.save("k", secret(second_record));
    }
    const auto e = expect_error([&] { a.save("k", secret(first_record)); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("lease ran out") != std::string::npos);
    expect_error([&] { a.erase("k"); }, errc::storage_failed);
    CHECK(b.load("k")->reveal() == second_record);
    std::this_thread::sleep_for(1500ms);  // a keep-alive has run since
    CHECK(a_lock.lease_lost());
}

TEST_CASE("a stopped holder past its lease has its later write refused", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto store = make_store(cluster);
    store.save("k", secret(first_record));
    const auto go = cluster.directory() / "go";
    const auto worker = start_holder({"fence", "/devflow-test", "k", "2", go.string(), "CANARY-stale-write"}, cluster);
    ::kill(worker->pid(), SIGSTOP);
    {
        auto held = store.lock("k");  // waits out the stopped holder's lease
        REQUIRE(store.load("k"));
        store.save("k", secret(second_record));
    }
    ::kill(worker->pid(), SIGCONT);
    std::ofstream(go).put('\n');
    const auto result = worker->read_line(20s);
    REQUIRE(result);
    CHECK(*result == "refused storage_failed");
    CHECK(store.load("k")->reveal() == second_record);
}

TEST_CASE("etcd_store carries on when the leader is killed", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto store = make_store(cluster);
    (void)store.load("k");
    store.save("k", secret("0"));
    const std::size_t leader = cluster.leader();
    for (int i = 1; i <= 20; ++i) {
        if (i == 5) cluster.kill_member(leader);
        auto held = store.lock("k");
        const auto current = store.load("k");
        REQUIRE(current);
        CHECK(current->reveal() == std::to_string(i - 1));
        store.save("k", secret(std::to_string(i)));
    }
    auto other = make_store(cluster);
    CHECK(other.load("k")->reveal() == "20");
}

TEST_CASE("etcd_store fails typed while the cluster is down and recovers", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto store = make_store(cluster, 1500ms);
    (void)store.load("k");
    store.save("k", secret(first_record));
    cluster.kill_all();
    auto e = expect_error([&] { (void)store.load("k"); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("no etcd member answered") != std::string::npos);
    expect_error([&] { store.save("k", secret(second_record)); }, errc::storage_failed);
    expect_error([&] { (void)store.lock("k"); }, errc::storage_failed);
    cluster.restart_all();
    REQUIRE(store.load("k"));
    CHECK(store.load("k")->reveal() == first_record);
    store.save("k", secret(second_record));
    CHECK(store.load("k")->reveal() == second_record);
}

TEST_CASE("etcd_store authenticates and names a wrong password", "[etcd]") {
    devflow_test::etcd_cluster cluster(3, {"--auth-token-ttl", "1"});  // tokens die after 1 s unused
    cluster.enable_auth("CANARY-etcd-password-77");
    devflow::etcd_options o = make_store(cluster).settings();
    o.user = "root";
    o.password = secret("CANARY-etcd-password-77");
    etcd_store store(transport(), o);
    CHECK_FALSE(store.load("k").has_value());
    store.save("k", secret(first_record));
    {
        auto held = store.lock("k");
        CHECK(held.owns_lock());
    }
    CHECK(store.load("k")->reveal() == first_record);
    std::this_thread::sleep_for(2500ms);  // etcd now refuses the store's token (401)
    REQUIRE(store.load("k"));             // after authenticating again
    CHECK(store.load("k")->reveal() == first_record);

    o.password = secret("CANARY-wrong-password");
    etcd_store wrong(transport(), o);
    auto e = expect_error([&] { (void)wrong.load("k"); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("refused the user name or password of user \"root\"") != std::string::npos);

    auto anonymous = make_store(cluster);
    e = expect_error([&] { (void)anonymous.load("k"); }, errc::storage_failed);
    CHECK(std::string(e.what()).find("user name is empty") != std::string::npos);
}

TEST_CASE("sealed records on etcd hold no plaintext", "[etcd]") {
    devflow_test::etcd_cluster cluster;
    auto raw = make_store(cluster);
    devflow::sealed_store<etcd_store> store(make_store(cluster), secret(std::string(32, '\x5a')));
    CHECK_FALSE(store.load("k").has_value());
    {
        auto held = store.lock("k");
        store.save("k", secret(first_record));
    }
    const auto stored = raw.load("k");
    REQUIRE(stored);
    CHECK(stored->reveal().find("CANARY") == std::string::npos);
    CHECK(store.load("k")->reveal() == first_record);
}

TEST_CASE("etcd_store refuses endpoints and settings that cannot work", "[etcd_config]") {
    devflow::etcd_options o;
    expect_error([&] { etcd_store(transport(), o); }, errc::invalid_config);
    o.endpoints = {"ftp://127.0.0.1:2379"};
    expect_error([&] { etcd_store(transport(), o); }, errc::invalid_config);
    o.endpoints = {"http://etcd.example.com:2379"};
    expect_error([&] { etcd_store(transport(), o); }, errc::insecure_endpoint);
    o.endpoints = {"https://etcd.example.com:2379/"};
    o.lease_ttl = 1s;
    expect_error([&] { etcd_store(transport(), o); }, errc::invalid_config);
    o.lease_ttl = 10s;
    o.password = secret("CANARY-no-user");
    expect_error([&] { etcd_store(transport(), o); }, errc::invalid_config);
    o.password = secret{};
    const etcd_store fine(transport(), o);
    CHECK(fine.settings().endpoints.front() == "https://etcd.example.com:2379");
    CHECK(fine.record_key("a") == "/devflow/record/a");
    CHECK(fine.lock_key("a") == "/devflow/lock/a");
}
