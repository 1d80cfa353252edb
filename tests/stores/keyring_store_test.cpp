// The keyring store (devflow::secret_service_store,
// docs/adapters/secret_service.md) against a real gnome-keyring on a private
// D-Bus session bus (private_keyring.hpp): save, load and erase; the item a
// keyring app shows; the per-key lock; two processes across an expiry
// refreshing once; no canary left in freed heap (heap_watch.hpp: this program
// replaces operator new/delete); and failing closed without D-Bus, without a
// keyring daemon and with a locked keyring.
#include "canary.hpp"
#include "catch.hpp"
#include "flow_fixture.hpp"
#include "heap_watch.hpp"
#include "private_keyring.hpp"
#include "store_lock_checks.hpp"

#include <devflow/adapters/secret_service.hpp>
#include <devflow/detail/record.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

using namespace devflow_test;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("keyring store saves loads and erases", "[keyring]") {
    const devflow::secret_service_store store = keyring_store();
    const std::string key = "https://id.example.test\nsave-load\nopenid";
    store.erase(key);
    CHECK_FALSE(store.load(key).has_value());

    store.save(key, devflow::secret{std::string_view{"first record"}});
    auto loaded = store.load(key);
    REQUIRE(loaded.has_value());
    CHECK(loaded->reveal() == "first record");

    // A save replaces the item; it does not add a second one.
    store.save(key, devflow::secret{std::string_view{"second record"}});
    loaded = store.load(key);
    REQUIRE(loaded.has_value());
    CHECK(loaded->reveal() == "second record");

    // Keys are separate items, whatever bytes they hold.
    const std::string binary_key("\x01\xff\n\0key", 8);
    store.save(binary_key, devflow::secret{std::string_view{"other"}});
    CHECK(store.load(binary_key)->reveal() == "other");
    CHECK(store.load(key)->reveal() == "second record");

    store.erase(key);
    CHECK_FALSE(store.load(key).has_value());
    store.erase(key);  // a missing item is fine
    store.erase(binary_key);
    CHECK_FALSE(store.load(binary_key).has_value());
}

TEST_CASE("keyring item shows its label and attributes", "[keyring]") {
    const devflow::secret_service_store store = keyring_store();
    const devflow::record_owner owner{"https://id.example.test/realms/dev", "my-cli", "openid profile"};
    const std::string key = devflow::detail::store_key(owner);
    store.save(key, devflow::secret{std::string_view{"shown record"}});
    store.save("not a flow key", devflow::secret{std::string_view{"opaque record"}});

    private_keyring& k = shared_keyring();
    child_options search;
    search.argv = {"secret-tool", "search", "--all", "xdg:schema", "org.devflow.Session"};
    search.env = k.env();
    search.stdout_file = (k.files() / "search.out").string();
    search.stderr_file = (k.files() / "search.out").string() + ".err";
    child_process tool(search);
    REQUIRE(tool.wait_for(20s) == std::optional<int>(0));
    const std::string out = read_file(search.stdout_file) + read_file(search.stderr_file);
    INFO(out);
    CHECK(out.find("label = devflow: my-cli at https://id.example.test/realms/dev") != std::string::npos);
    CHECK(out.find("attribute.issuer = https://id.example.test/realms/dev") != std::string::npos);
    CHECK(out.find("attribute.client_id = my-cli") != std::string::npos);
    CHECK(out.find("attribute.scopes = openid profile") != std::string::npos);
    CHECK(out.find("attribute.key = " + devflow::detail::keyring_item_for(key).key_digest) !=
          std::string::npos);
    // A key that is not a flow's is shown by its digest only.
    CHECK(out.find("label = devflow: token record " +
                   devflow::detail::keyring_item_for("not a flow key").key_digest) != std::string::npos);
    store.erase(key);
    store.erase("not a flow key");
}

TEST_CASE("keyring stores in two partitions keep two items for one key", "[keyring]") {
    // Two profiles of the devflow CLI signed in to one client as two users:
    // each has its own item, and neither a save nor an erase of one touches
    // the other.
    private_keyring& k = shared_keyring();
    (void)keyring_store();  // the shared keyring's environment
    auto in = [&](const std::string& partition) {
        devflow::secret_service_store::options o;
        o.lock_directory = k.files() / "locks";
        o.partition = partition;
        return devflow::secret_service_store(o);
    };
    const auto work = in("/profiles/work");
    const auto home = in("/profiles/home");
    const auto none = in("");
    const std::string key = "https://id.example.test\npartitioned\nopenid";
    work.save(key, devflow::secret{std::string_view{"alice's session"}});
    home.save(key, devflow::secret{std::string_view{"bob's session"}});
    REQUIRE(work.load(key).has_value());
    REQUIRE(home.load(key).has_value());
    CHECK(work.load(key)->reveal() == "alice's session");
    CHECK(home.load(key)->reveal() == "bob's session");
    CHECK_FALSE(none.load(key).has_value());
    CHECK(in("/profiles/work").load(key)->reveal() == "alice's session");  // another process, same profile
    home.erase(key);
    CHECK_FALSE(home.load(key).has_value());
    REQUIRE(work.load(key).has_value());
    CHECK(work.load(key)->reveal() == "alice's session");
    work.erase(key);
}

TEST_CASE("keyring save replaces the session's item where it is and never leaves a second", "[keyring]") {
    // The session's item lives outside the default keyring (here in the
    // in-memory "session" collection, as when the default alias moved):
    // load() reads it there, so save() must replace it there; a second item
    // in the default keyring would leave a stale copy that a later load could
    // read (a spent refresh token, with rotation).
    namespace k = devflow::detail::keyring;
    const devflow::secret_service_store store = keyring_store();
    const std::string key = "https://id.example.test\nelsewhere\nopenid";
    store.erase(key);
    {
        const k::table_ref attributes = k::lookup_attributes(key, "");
        k::gerror error;
        REQUIRE(secret_password_storev_sync(k::schema(), attributes.get(), SECRET_COLLECTION_SESSION,
                                            "devflow: elsewhere", "the older record", nullptr, &error.e));
    }
    REQUIRE(store.load(key).has_value());
    CHECK(store.load(key)->reveal() == "the older record");

    store.save(key, devflow::secret{std::string_view{"the refreshed record"}});
    CHECK(store.load(key)->reveal() == "the refreshed record");
    const k::service_ref service = k::open_service();
    const k::table_ref lookup = k::lookup_attributes(key, "");
    k::gerror error;
    const k::items_ref items(
        secret_service_search_sync(service.get(), k::schema(), lookup.get(), SECRET_SEARCH_ALL, nullptr, &error.e));
    REQUIRE(error.e == nullptr);
    CHECK(g_list_length(items.get()) == 1);
    store.erase(key);
    CHECK_FALSE(store.load(key).has_value());
}

TEST_CASE("keyring store leaves no canary in freed heap", "[keyring]") {
    // What the store's C++ side frees; libsecret's and GLib's own buffers
    // (malloc, and libsecret's wiped secure memory) are not seen here.
    const devflow::secret_service_store store = keyring_store();
    const std::string key = "https://id.example.test\nheap\nopenid";
    store.erase(key);  // the connection and the session are set up outside the watch
    bool found = false;
    std::size_t freed = 0;
    std::size_t dirty = 0;
    {
        heap_watch watch;
        store.save(key, devflow::secret{std::string(
                            R"({"access_token":"CANARY-keyring-record-0123456789abcdef"})")});
        std::optional<devflow::secret> loaded = store.load(key);
        found = loaded.has_value() && loaded->reveal().find("keyring-record") != std::string::npos;
        loaded.reset();
        store.erase(key);
        freed = watch.freed();
        dirty = watch.dirty();
    }
    CHECK(found);
    CHECK(freed > 0);
    CHECK(dirty == 0);
}

TEST_CASE("keyring store locks per key across objects", "[keyring]") {
    devflow::secret_service_store store = keyring_store();
    devflow::secret_service_store other = keyring_store();
    check_exclusive_key_locks(store, other);
}

TEST_CASE("a flow keeps its session in the keyring", "[keyring]") {
    fixture f;
    auto flow = f.make_flow_with(keyring_store(), f.server.config());
    flow->logout();
    const devflow::token_set tokens = flow->login();
    CHECK(f.server.device_authorizations() == 1);

    // A second flow (another run) finds the session in the keyring.
    auto again = f.make_flow_with(keyring_store(), f.server.config());
    const auto stored = again->stored_tokens();
    REQUIRE(stored.has_value());
    CHECK(stored->access_token == tokens.access_token);
    CHECK(again->authorization_header() == "Bearer " + tokens.access_token.reveal());
    CHECK(f.server.device_authorizations() == 1);
    again->logout();
    CHECK_FALSE(keyring_store().load(again->store_key()).has_value());
}

TEST_CASE("two processes refresh an expired token once", "[keyring]") {
    // The session, signed in on the fake clock (5-minute tokens); the
    // workers' fake clocks are ten minutes later, so both find it expired
    // (its 30-minute session still alive).
    fixture f;
    auto flow = f.make_flow_with(keyring_store(), f.server.config());
    flow->login();

    private_keyring& k = shared_keyring();
    const auto at = std::chrono::system_clock::now() + 1500ms;
    const auto at_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    std::vector<std::unique_ptr<child_process>> workers;
    for (int i = 0; i < 2; ++i) {
        child_options w;
        w.argv = {DEVFLOW_KEYRING_WORKER, "refresh", (k.files() / "locks").string(), std::to_string(at_ms)};
        w.env = k.env();
        w.stdout_file = (k.files() / ("refresh" + std::to_string(i) + ".out")).string();
        w.stderr_file = w.stdout_file + ".err";
        workers.push_back(std::make_unique<child_process>(w));
    }
    int refreshes = 0;
    int mine = 0;
    for (int i = 0; i < 2; ++i) {
        const auto status = workers[static_cast<std::size_t>(i)]->wait_for(30s);
        const std::string base = (k.files() / ("refresh" + std::to_string(i) + ".out")).string();
        const std::string out = read_file(base) + read_file(base + ".err");
        INFO("worker " << i << ": " << out);
        REQUIRE(status == std::optional<int>(0));
        if (out.find("refreshes=1") != std::string::npos) ++refreshes;
        CHECK((out.find("refreshes=0") != std::string::npos || out.find("refreshes=1") != std::string::npos));
        if (out.find("token=mine") != std::string::npos) ++mine;
    }
    CHECK(refreshes == 1);
    CHECK(mine == 1);  // the other process took the refreshed token from the keyring
    flow->logout();
}

TEST_CASE("without D-Bus the keyring store fails closed", "[keyring]") {
    private_keyring& k = shared_keyring();
    std::string out;
    CHECK(k.run_worker({"load", "a key"}, {{"DBUS_SESSION_BUS_ADDRESS", "unix:path=" + (k.files() / "no-bus").string()}},
                       &out) == 3);
    INFO(out);
    CHECK(out.find("no D-Bus session bus") != std::string::npos);
    CHECK(k.run_worker({"save", "a key"}, {{"DBUS_SESSION_BUS_ADDRESS", ""}}, &out) == 3);
    CHECK(out.find("DBUS_SESSION_BUS_ADDRESS is not set") != std::string::npos);
}

TEST_CASE("without a keyring daemon the keyring store fails closed", "[keyring]") {
    private_keyring bus_only(/*with_keyring=*/false);
    std::string out;
    CHECK(bus_only.run_worker({"save", "a key"}, {}, &out) == 3);
    INFO(out);
    CHECK(out.find("no Secret Service") != std::string::npos);
}

TEST_CASE("a locked keyring fails closed without a prompt", "[keyring]") {
    private_keyring own;  // locked here, so not the shared one
    std::string out;
    REQUIRE(own.run_worker({"save", "a key"}, {}, &out) == 0);
    REQUIRE(own.run_worker({"lock-default"}, {}, &out) == 0);
    for (const char* op : {"load", "save", "erase"}) {
        CHECK(own.run_worker({op, "a key"}, {}, &out) == 3);
        INFO(op << ": " << out);
        CHECK(out.find("is locked") != std::string::npos);
        CHECK(out.find("never prompts") != std::string::npos);
    }
}
