// One process of the etcd_store tests (tests/stores/etcd_store_test.cpp):
//   etcd_worker hold PREFIX KEY TTL ENDPOINT...
//       takes the lock on KEY, prints "locked <lease>", then waits to be killed
//   etcd_worker fence PREFIX KEY TTL GO_FILE VALUE ENDPOINT...
//       takes the lock, reads the record, prints "locked <lease>", waits until
//       GO_FILE exists, then saves VALUE and prints "saved" or "refused <errc>"
#include <devflow/adapters/etcd_store.hpp>
#include <devflow/adapters/curl_http.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const bool hold = !args.empty() && args[0] == "hold";
    const bool fence = !args.empty() && args[0] == "fence";
    const std::size_t first_endpoint = hold ? 4 : 6;
    if ((!hold && !fence) || args.size() <= first_endpoint) {
        std::fputs("usage: etcd_worker hold|fence PREFIX KEY TTL [GO_FILE VALUE] ENDPOINT...\n", stderr);
        return 2;
    }
    try {
        devflow::etcd_options o;
        o.prefix = args[1];
        o.lease_ttl = std::chrono::seconds{std::stoi(args[3])};
        o.retry_for = std::chrono::seconds{5};
        o.endpoints.assign(args.begin() + static_cast<std::ptrdiff_t>(first_endpoint), args.end());
        devflow::curl_http::options h;
        h.connect_timeout = std::chrono::milliseconds{500};
        h.total_timeout = std::chrono::seconds{3};
        devflow::etcd_store<devflow::curl_http> store(devflow::curl_http(h), o);
        const std::string& key = args[2];
        auto held = store.lock(key);
        if (fence) (void)store.load(key);
        std::printf("locked %lld\n", static_cast<long long>(held.lease_id()));
        std::fflush(stdout);
        if (hold) {
            for (;;) std::this_thread::sleep_for(std::chrono::seconds{1});
        }
        while (!std::filesystem::exists(args[4])) std::this_thread::sleep_for(std::chrono::milliseconds{20});
        try {
            store.save(key, devflow::secret(args[5]));
            std::puts("saved");
        } catch (const devflow::error& e) {
            std::printf("refused %s\n", devflow::to_string(e.value()));
        }
        std::fflush(stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "etcd_worker: %s\n", e.what());
        return 1;
    }
}
