// devflow_keyring_worker: one process of the keyring store's tests
// (keyring_store_test.cpp), run in the environment of a private_keyring.
//
//   ready                    waits (up to 20 s) until the keyring is usable
//   load|save|erase KEY      one store operation ("ok", or "error: <message>")
//   lock-default             locks the default keyring (D-Bus Lock; no prompt)
//   refresh LOCK_DIR AT_MS   at wall time AT_MS, asks a device_flow over the
//                            keyring store for an authorization header, a
//                            token expired on the fake clock:
//                            prints "refreshes=<n>" and "token=mine|other"
//
// Exit status: 0 done; 3 the store failed with storage_failed; 1 otherwise.
// Never prints a token.
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/adapters/secret_service.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

int store_operation(const std::string& op, const std::string& key) {
    devflow::secret_service_store store;
    try {
        if (op == "load") {
            const auto record = store.load(key);
            std::cout << (record ? "ok: found\n" : "ok: absent\n");
        } else if (op == "save") {
            store.save(key, devflow::secret{std::string_view{"a record"}});
            std::cout << "ok\n";
        } else {
            store.erase(key);
            std::cout << "ok\n";
        }
        return 0;
    } catch (const devflow::error& e) {
        std::cout << "error: " << e.what() << "\n";
        return e.value() == devflow::errc::storage_failed ? 3 : 1;
    }
}

int wait_ready() {
    std::string why;
    for (int i = 0; i < 400; ++i) {
        why = devflow::secret_service_store::unavailable_reason();
        if (why.empty()) return 0;
        std::this_thread::sleep_for(50ms);
    }
    std::cout << "not ready: " << why << "\n";
    return 1;
}

int lock_default() {
    GError* error = nullptr;
    GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
    if (bus == nullptr) return 1;
    GVariant* alias = g_dbus_connection_call_sync(
        bus, "org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
        "ReadAlias", g_variant_new("(s)", "default"), G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE,
        10000, nullptr, &error);
    if (alias == nullptr) return 1;
    const gchar* path = nullptr;
    g_variant_get(alias, "(&o)", &path);
    const gchar* paths[] = {path, nullptr};
    GVariant* locked = g_dbus_connection_call_sync(
        bus, "org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
        "Lock", g_variant_new("(^ao)", paths), G_VARIANT_TYPE("(aoo)"), G_DBUS_CALL_FLAGS_NONE, 10000,
        nullptr, &error);
    g_variant_unref(alias);
    if (locked == nullptr) {
        std::cout << "cannot lock: " << error->message << "\n";
        g_error_free(error);
        return 1;
    }
    g_variant_unref(locked);
    g_object_unref(bus);
    std::cout << "locked\n";
    return 0;
}

int refresh(const std::string& lock_dir, long long at_ms) {
    using namespace devflow;
    testing::fake_clock clock;
    testing::fake_http http(clock);
    testing::fake_authorization_server server(http, clock);  // for its endpoints and config
    const std::string mine = "CANARY-access-worker-" + std::to_string(::getpid());
    int refreshes = 0;
    http.handle(server.token_endpoint(), [&](const testing::recorded_request& r) {
        if (r.field("grant_type") != "refresh_token")
            return testing::respond(400, R"({"error":"invalid_grant"})");
        ++refreshes;
        // Long enough that the other process waits on the lock meanwhile.
        std::this_thread::sleep_for(300ms);
        return testing::respond(200, R"({"access_token":")" + mine +
                                         R"(","token_type":"Bearer","expires_in":36000,)"
                                         R"("refresh_token":"CANARY-refresh-worker"})");
    });
    // Qualified: libsecret declares a C function secret_service_store too.
    devflow::secret_service_store::options o;
    o.lock_directory = lock_dir;
    device_flow<testing::fake_http, nlohmann_json, devflow::secret_service_store, testing::fake_clock,
                testing::recording_browser>
        flow(server.config(), http, {}, devflow::secret_service_store(o), clock, {});
    flow.on_prompt([](const prompt_info&) { std::cout << "unexpected prompt\n"; });
    // The stored access token (5 min) has expired; its session (30 min idle) has not.
    clock.advance(std::chrono::minutes{10});
    std::this_thread::sleep_until(std::chrono::system_clock::time_point{std::chrono::milliseconds{at_ms}});
    try {
        const std::string header = flow.authorization_header();
        std::cout << "refreshes=" << refreshes << "\n"
                  << "token=" << (header == "Bearer " + mine ? "mine" : "other") << "\n";
        return 0;
    } catch (const devflow::error& e) {
        std::cout << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "ready") return wait_ready();
    if (mode == "lock-default") return lock_default();
    if ((mode == "load" || mode == "save" || mode == "erase") && argc == 3) return store_operation(mode, argv[2]);
    if (mode == "refresh" && argc == 4) return refresh(argv[2], std::stoll(argv[3]));
    std::cerr << "usage: devflow_keyring_worker ready|lock-default|load KEY|save KEY|erase KEY|"
                 "refresh LOCK_DIR AT_MS\n";
    return 2;
}
