// devflow — definitions of secret_service_store (include
// <devflow/adapters/secret_service.hpp>, not this).
#pragma once

#include <devflow/adapters/secret_service.hpp>
#include <devflow/adapters/detail/keyring_item.hpp>
#include <devflow/error.hpp>
#include <devflow/file_store.hpp>
#include <devflow/secret.hpp>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include <libsecret/secret.h>

namespace devflow {

namespace detail::keyring {

/// How long one D-Bus call to the Secret Service may take (a daemon started
/// by D-Bus activation answers well within it).
inline constexpr int call_timeout_ms = 10000;

inline constexpr const char* service_name = "org.freedesktop.secrets";

/// Throws errc::storage_failed with "devflow secret_service: <what>".
[[noreturn]] inline void fail(const std::string& what) {
    throw_error(errc::storage_failed, "devflow secret_service: " + what);
}

/// Owns a GError; frees it when destroyed.
struct gerror {
    GError* e = nullptr;
    gerror() = default;
    gerror(const gerror&) = delete;
    gerror& operator=(const gerror&) = delete;
    ~gerror() {
        if (e != nullptr) g_error_free(e);
    }
    /// The error's text without D-Bus's remote error prefix; never a secret
    /// (the Secret Service and GIO name paths, names and reasons).
    [[nodiscard]] std::string text() const {
        if (e == nullptr) return "unknown error";
        GError* copy = g_error_copy(e);
        g_dbus_error_strip_remote_error(copy);
        std::string out = copy->message != nullptr ? copy->message : "unknown error";
        g_error_free(copy);
        return out;
    }
    /// The remote D-Bus error name ("" when it is not one).
    [[nodiscard]] std::string remote_name() const {
        if (e == nullptr || !g_dbus_error_is_remote_error(e)) return {};
        gchar* name = g_dbus_error_get_remote_error(e);
        std::string out = name != nullptr ? name : "";
        g_free(name);
        return out;
    }
};

/// Owns one reference to a GObject-like object, released with `Unref`.
template <class T, void (*Unref)(T*)>
class ref {
public:
    explicit ref(T* p = nullptr) noexcept : p_(p) {}
    ref(ref&& other) noexcept : p_(other.p_) { other.p_ = nullptr; }
    ref(const ref&) = delete;
    ref& operator=(const ref&) = delete;
    ref& operator=(ref&&) = delete;
    ~ref() {
        if (p_ != nullptr) Unref(p_);
    }
    [[nodiscard]] T* get() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    T* p_;
};

inline void unref_object(void* p) { g_object_unref(p); }
inline void unref_connection(GDBusConnection* p) { unref_object(p); }
inline void unref_service(SecretService* p) { unref_object(p); }
inline void unref_variant(GVariant* p) { g_variant_unref(p); }
inline void unref_table(GHashTable* p) { g_hash_table_unref(p); }
inline void unref_value(SecretValue* p) { secret_value_unref(p); }
inline void free_items(GList* p) { g_list_free_full(p, g_object_unref); }

using connection_ref = ref<GDBusConnection, unref_connection>;
using service_ref = ref<SecretService, unref_service>;
using variant_ref = ref<GVariant, unref_variant>;
using table_ref = ref<GHashTable, unref_table>;
using value_ref = ref<SecretValue, unref_value>;
using items_ref = ref<GList, free_items>;

/// The secret of an unlocked item. A search that loads secrets drops any
/// error doing so, so an item without one is asked again; still none is a
/// failure, never "not signed in".
inline value_ref secret_of(SecretItem* item) {
    if (value_ref value(secret_item_get_secret(item)); value) return value;
    gerror error;
    if (!secret_item_load_secret_sync(item, nullptr, &error.e))
        fail("cannot read the keyring item for this session: " + error.text());
    value_ref value(secret_item_get_secret(item));
    if (!value) fail("the keyring item for this session has no secret");
    return value;
}

/// devflow's schema: the lookup attribute `key` and the descriptive ones.
inline const SecretSchema* schema() {
    static const SecretSchema s = [] {
        SecretSchema out{};
        out.name = "org.devflow.Session";
        out.flags = SECRET_SCHEMA_NONE;
        out.attributes[0] = {"key", SECRET_SCHEMA_ATTRIBUTE_STRING};
        out.attributes[1] = {"issuer", SECRET_SCHEMA_ATTRIBUTE_STRING};
        out.attributes[2] = {"client_id", SECRET_SCHEMA_ATTRIBUTE_STRING};
        out.attributes[3] = {"scopes", SECRET_SCHEMA_ATTRIBUTE_STRING};
        out.attributes[4] = {"partition", SECRET_SCHEMA_ATTRIBUTE_STRING};
        out.attributes[5] = {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING};
        return out;
    }();
    return &s;
}

/// A new attribute table (keys and values copied).
inline table_ref attributes() {
    return table_ref(g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free));
}

inline void add_attribute(const table_ref& table, const char* name, const std::string& value) {
    g_hash_table_replace(table.get(), g_strdup(name), g_strdup(value.c_str()));
}

/// The session bus, or a failure naming D-Bus. The connection does not end
/// the process when the bus goes away (GIO's default for the shared one).
inline connection_ref session_bus() {
    gerror error;
    GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error.e);
    if (bus == nullptr) {
        const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS");
        fail(std::string("no D-Bus session bus (") +
             (address == nullptr || *address == '\0' ? "DBUS_SESSION_BUS_ADDRESS is not set"
                                                     : "DBUS_SESSION_BUS_ADDRESS names none that answers") +
             ": " + error.text() +
             "); the keyring store needs a desktop session's D-Bus and a Secret Service such as "
             "gnome-keyring");
    }
    g_dbus_connection_set_exit_on_close(bus, FALSE);
    return connection_ref(bus);
}

/// Calls `method` on the Secret Service; a missing service is named as such.
inline variant_ref call(const connection_ref& bus, const char* path, const char* interface,
                        const char* method, GVariant* parameters, const char* reply_type) {
    gerror error;
    GVariant* reply = g_dbus_connection_call_sync(
        bus.get(), service_name, path, interface, method, parameters, G_VARIANT_TYPE(reply_type),
        G_DBUS_CALL_FLAGS_NONE, call_timeout_ms, nullptr, &error.e);
    if (reply != nullptr) return variant_ref(reply);
    const std::string name = error.remote_name();
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        name == "org.freedesktop.DBus.Error.NameHasNoOwner")
        fail("no Secret Service (" + std::string(service_name) +
             ") on the D-Bus session bus: no keyring daemon is running (start gnome-keyring-daemon, "
             "or KeePassXC or KWallet with the Secret Service on)");
    fail("the Secret Service did not answer " + std::string(method) + ": " + error.text());
}

/// A string property of an object of the Secret Service ("" when unreadable).
inline variant_ref property(const connection_ref& bus, const char* path, const char* interface,
                            const char* name) {
    variant_ref reply = call(bus, path, "org.freedesktop.DBus.Properties", "Get",
                             g_variant_new("(ss)", interface, name), "(v)");
    GVariant* value = nullptr;
    g_variant_get(reply.get(), "(v)", &value);
    return variant_ref(value);
}

/// Checks that the Secret Service answers and that its default collection
/// exists and is unlocked, asking it directly (no cached state, no prompt).
inline void require_unlocked_default(const connection_ref& bus) {
    variant_ref alias = call(bus, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
                             "ReadAlias", g_variant_new("(s)", "default"), "(o)");
    const gchar* path = nullptr;
    g_variant_get(alias.get(), "(&o)", &path);
    const std::string collection = path != nullptr ? path : "/";
    if (collection == "/")
        fail("the Secret Service has no default keyring; create one in a keyring app such as "
             "Seahorse (devflow never creates one)");
    variant_ref locked = property(bus, collection.c_str(), "org.freedesktop.Secret.Collection", "Locked");
    if (!g_variant_is_of_type(locked.get(), G_VARIANT_TYPE_BOOLEAN))
        fail("the Secret Service answered Locked with something other than a boolean");
    if (g_variant_get_boolean(locked.get()) == FALSE) return;
    std::string label;
    try {
        variant_ref l = property(bus, collection.c_str(), "org.freedesktop.Secret.Collection", "Label");
        if (g_variant_is_of_type(l.get(), G_VARIANT_TYPE_STRING))
            label = g_variant_get_string(l.get(), nullptr);
    } catch (const devflow::error&) {
        // The label only makes the message friendlier.
    }
    fail("the default keyring" + (label.empty() ? std::string() : " (\"" + label + "\")") +
         " is locked; unlock it (log in to the desktop session, or open it in a keyring app) "
         "and run again (devflow never prompts)");
}

/// libsecret's service object with an open (encrypted when it can) session,
/// once require_unlocked_default() has passed.
inline service_ref open_service() {
    const connection_ref bus = session_bus();
    require_unlocked_default(bus);
    gerror error;
    SecretService* service = secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION, nullptr, &error.e);
    if (service == nullptr) fail("cannot open a session with the Secret Service: " + error.text());
    return service_ref(service);
}

/// The lookup attributes of the item for `key` in `partition`.
inline table_ref lookup_attributes(std::string_view key, std::string_view partition) {
    table_ref table = attributes();
    add_attribute(table, "key", keyring_item_for(key, partition).key_digest);
    return table;
}

/// The items of `key` in `partition`, in every collection (with their
/// secrets when `flags` asks to load them).
inline items_ref find_items(const service_ref& service, std::string_view key, std::string_view partition,
                            SecretSearchFlags flags) {
    const table_ref lookup = lookup_attributes(key, partition);
    gerror error;
    items_ref found(secret_service_search_sync(service.get(), schema(), lookup.get(),
                                               static_cast<SecretSearchFlags>(SECRET_SEARCH_ALL | flags), nullptr,
                                               &error.e));
    if (error.e != nullptr) fail("cannot search the keyring: " + error.text());
    return found;
}

}  // namespace detail::keyring

inline secret_service_store::secret_service_store() : secret_service_store(options{}) {}

inline secret_service_store::secret_service_store(options o)
    : locks_(o.lock_directory.empty() ? file_store::default_directory() : std::move(o.lock_directory),
             std::move(o.warn)),
      partition_(std::move(o.partition)) {}

inline std::filesystem::path secret_service_store::lock_directory() const {
    return locks_.path_for("").parent_path();
}

inline void secret_service_store::check_available() const {
    (void)detail::keyring::open_service();
}

inline std::string secret_service_store::unavailable_reason() {
    try {
        (void)detail::keyring::open_service();
        return {};
    } catch (const devflow::error& e) {
        return e.what();
    }
}

inline std::optional<secret> secret_service_store::load(std::string_view key) const {
    namespace k = detail::keyring;
    const k::service_ref service = k::open_service();
    const k::items_ref items = k::find_items(service, key, partition_, SECRET_SEARCH_LOAD_SECRETS);
    bool locked = false;
    for (GList* l = items.get(); l != nullptr; l = l->next) {
        auto* item = static_cast<SecretItem*>(l->data);
        if (secret_item_get_locked(item)) {
            locked = true;
            continue;
        }
        const k::value_ref value = k::secret_of(item);
        gsize size = 0;
        const gchar* bytes = secret_value_get(value.get(), &size);
        // Sized once, so no reallocation leaves a copy behind; libsecret
        // wipes its own copy (secure memory) when the value is released.
        std::string copy(static_cast<std::size_t>(size), '\0');
        if (size > 0) std::memcpy(copy.data(), bytes, size);
        return secret(std::move(copy));
    }
    if (locked)
        k::fail("the keyring item for this session is in a locked keyring; unlock it and run again "
                "(devflow never prompts)");
    return std::nullopt;
}

inline void secret_service_store::save(std::string_view key, const secret& record) const {
    namespace k = detail::keyring;
    const k::service_ref service = k::open_service();
    const detail::keyring_item_fields fields = detail::keyring_item_for(key, partition_);
    const k::table_ref attributes = k::attributes();
    k::add_attribute(attributes, "key", fields.key_digest);
    if (fields.described) {
        k::add_attribute(attributes, "issuer", fields.issuer);
        k::add_attribute(attributes, "client_id", fields.client_id);
        k::add_attribute(attributes, "scopes", fields.scopes);
    }
    if (!fields.partition.empty()) k::add_attribute(attributes, "partition", fields.partition);
    // Copied into libsecret's secure memory, which it wipes when released.
    const k::value_ref value(secret_value_new(record.reveal().data(),
                                              static_cast<gssize>(record.size()), "text/plain"));
    // The session's item may live outside the default collection (the
    // default alias moved, or the user moved the item), and load() reads it
    // wherever it is: replace its secret there, so a refresh never leaves a
    // stale copy beside a new one (every readable copy, if there are several).
    {
        const k::items_ref found = k::find_items(service, key, partition_, SECRET_SEARCH_NONE);
        bool replaced = false;
        for (GList* l = found.get(); l != nullptr; l = l->next) {
            auto* item = static_cast<SecretItem*>(l->data);
            if (secret_item_get_locked(item)) continue;
            k::gerror set_error;
            if (!secret_item_set_secret_sync(item, value.get(), nullptr, &set_error.e))
                k::fail("cannot store the record in the keyring: " + set_error.text());
            replaced = true;
        }
        if (replaced) return;
    }
    k::gerror error;
    if (!secret_service_store_sync(service.get(), k::schema(), attributes.get(), SECRET_COLLECTION_DEFAULT,
                                   fields.label.c_str(), value.get(), nullptr, &error.e))
        k::fail("cannot store the record in the keyring: " + error.text());
}

inline void secret_service_store::erase(std::string_view key) const {
    namespace k = detail::keyring;
    const k::service_ref service = k::open_service();
    const k::table_ref attributes = k::lookup_attributes(key, partition_);
    k::gerror error;
    if (!secret_service_clear_sync(service.get(), k::schema(), attributes.get(), nullptr, &error.e) &&
        error.e != nullptr)
        k::fail("cannot delete the record from the keyring: " + error.text());
}

inline secret_service_store::key_lock secret_service_store::lock(std::string_view key,
                                                                 std::stop_token stop) const {
    return locks_.lock(key, std::move(stop));
}

inline std::optional<secret_service_store::key_lock> secret_service_store::try_lock(
    std::string_view key) const {
    return locks_.try_lock(key);
}

}  // namespace devflow
