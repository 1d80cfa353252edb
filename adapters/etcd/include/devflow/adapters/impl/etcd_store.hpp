// devflow — etcd_store's definitions (include <devflow/adapters/etcd_store.hpp>,
// which declares and documents them, not this).
#pragma once

#include <devflow/adapters/detail/etcd_json.hpp>
#include <devflow/adapters/etcd_store.hpp>
#include <devflow/detail/base64.hpp>
#include <devflow/detail/display_text.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/system_clock.hpp>

#include <unistd.h>

#include <functional>
#include <type_traits>
#include <utility>

namespace devflow {

namespace detail::etcd {

/// One lock's lease, shared by its key_lock and its keep-alive thread.
struct held_lease {
    std::int64_t id = 0;
    std::string key;                 ///< the store key it locks
    std::atomic<bool> lost{false};   ///< a keep-alive found it gone
};

/// A short, printable excerpt of what etcd said (its error text never holds
/// a record, a password or a token; it is cleaned all the same).
inline std::string said(std::string_view text) { return display_text(text, 200); }

/// The text of an etcd error answer: its "message" (or "error") member.
inline std::string error_text(const http_response& r) {
    const std::optional<json_node> n = parse_json(r.body.reveal());
    if (n) {
        for (const char* name : {"message", "error"})
            if (const json_node* m = n->get(name); m != nullptr && m->type == json_node::kind::string)
                return said(m->text);
        if (const json_node* e = n->get("error"); e != nullptr)
            if (const json_node* m = e->get("message"); m != nullptr && m->type == json_node::kind::string)
                return said(m->text);
    }
    return "HTTP " + std::to_string(r.status);
}

/// This process, as the lock key's value says who holds it.
inline std::string holder_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return "pid " + std::to_string(::getpid()) + " on " + display_text(host, 100);
}

/// One way to the cluster: a transport and the member it tried last. The
/// store's calls and each lock's keep-alive have their own, so a request that
/// hangs on a dying member never holds up a keep-alive (with a transport
/// that can be copied; a move-only one is shared, one request at a time).
struct channel {
    std::function<http_response(const http_request&)> send;  ///< called with *transport_mutex held
    std::shared_ptr<std::mutex> transport_mutex = std::make_shared<std::mutex>();
    std::mutex calls;        ///< one call at a time on this channel
    std::size_t member = 0;  ///< the endpoint tried first (guarded by calls)
};

/// The settings, the auth token, the store's channel and its bookkeeping
/// (shared by copies of a store and by its locks' keep-alive threads).
struct connection {
    etcd_options settings;
    channel store_channel;
    /// A channel for one lock's keep-alive thread.
    std::function<std::shared_ptr<channel>()> make_channel;

    std::mutex auth;  ///< guards token
    secret token;     ///< from /v3/auth/authenticate; empty before

    std::mutex book;  ///< guards revisions and leases
    /// Store key -> the record's mod_revision as last read or written (0: absent).
    std::map<std::string, std::int64_t, std::less<>> revisions;
    /// Store key -> the lease of the lock this store holds on it.
    std::map<std::string, std::int64_t, std::less<>> leases;

    /// POSTs `body` to `path` at the members in turn (from the one that last
    /// answered) until one gives an answer that is not 5xx, or `deadline`;
    /// a stop requested on `stop` ends the wait between rounds (cancelled).
    /// Requires `ch.calls` held.
    http_response exchange(channel& ch, std::string_view path, const secret& body, const secret& with_token,
                           const std::string& what, std::chrono::steady_clock::time_point deadline,
                           const std::stop_token& stop) {
        std::string last;
        const std::size_t n = settings.endpoints.size();
        for (std::size_t tried = 0;; ++tried) {
            const std::string& base = settings.endpoints[ch.member];
            http_request request;
            request.method = http_method::post;
            request.url = base + std::string(path);
            request.headers.push_back({"content-type", secret("application/json")});
            request.headers.push_back({"accept", secret("application/json")});
            if (!with_token.empty()) request.headers.push_back({"authorization", with_token});
            request.body = body;
            http_response answer;
            {
                std::lock_guard<std::mutex> one(*ch.transport_mutex);
                answer = ch.send(request);
            }
            if (answer && answer.status < 500) return answer;
            last = base + ": " + (answer ? error_text(answer) : said(answer.transport_message));
            ch.member = (ch.member + 1) % n;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline)
                throw_error(errc::storage_failed,
                            "devflow etcd_store: " + what + ": no etcd member answered within " +
                                std::to_string(settings.retry_for.count()) + " ms (last: " + last + ")");
            if ((tried + 1) % n == 0) {
                // A whole round failed (no leader yet, or all down): wait a little.
                const auto pause = std::min<std::chrono::steady_clock::duration>(
                    std::chrono::milliseconds{200}, deadline - now);
                if (!system_clock{}.sleep_for(pause, stop))
                    throw_error(errc::cancelled, "devflow etcd_store: " + what + " was cancelled");
            }
        }
    }

    /// Gets an auth token for settings.user. Requires `ch.calls` held.
    secret authenticate(channel& ch, std::chrono::steady_clock::time_point deadline, const std::stop_token& stop) {
        std::string body;
        body.reserve(64 + 2 * settings.user.size() + 6 * settings.password.size());
        body.append("{\"name\":").append(quote(settings.user));
        {
            const secret password(quote(settings.password.reveal()));
            body.append(",\"password\":").append(password.reveal()).append("}");
        }
        const secret request(std::move(body));
        const std::string what = "authenticating to etcd as user \"" + said(settings.user) + "\"";
        const http_response answer = exchange(ch, "/v3/auth/authenticate", request, secret{}, what, deadline, stop);
        if (answer.status != 200)
            throw_error(errc::storage_failed, "devflow etcd_store: etcd refused the user name or password of user \"" +
                                                  said(settings.user) + "\" (" + error_text(answer) + ")");
        const std::optional<json_node> n = parse_json(answer.body.reveal());
        const json_node* t = n ? n->get("token") : nullptr;
        if (t == nullptr || t->type != json_node::kind::string || t->text.empty())
            throw_error(errc::storage_failed, "devflow etcd_store: " + what + ": the answer holds no token");
        secret fresh(t->text);
        std::lock_guard<std::mutex> hold(auth);
        token = fresh;
        return fresh;
    }

    /// One etcd call on `ch`: authenticates first when a user is set,
    /// re-authenticates once when the token is refused, and returns the
    /// parsed 200 answer. When `refused` is given, another refusal (4xx) sets
    /// it to the HTTP status and returns an empty node instead of throwing.
    /// A stop requested on `stop` ends its retries (errc::cancelled).
    /// @throws devflow::error errc::storage_failed naming `what`, or errc::cancelled
    json_node call(channel& ch, std::string_view path, const secret& body, const std::string& what,
                   int* refused = nullptr, const std::stop_token& stop = {}) {
        std::lock_guard<std::mutex> hold(ch.calls);
        const auto deadline = std::chrono::steady_clock::now() + settings.retry_for;
        const bool with_auth = !settings.user.empty();
        for (int attempt = 0;; ++attempt) {
            secret current;
            if (with_auth) {
                {
                    std::lock_guard<std::mutex> read(auth);
                    current = token;
                }
                if (current.empty()) current = authenticate(ch, deadline, stop);
            }
            const http_response answer = exchange(ch, path, body, current, what, deadline, stop);
            if (answer.status == 200) {
                std::optional<json_node> n = parse_json(answer.body.reveal());
                if (!n || n->type != json_node::kind::object)
                    throw_error(errc::storage_failed,
                                "devflow etcd_store: " + what + ": the answer is not etcd's JSON");
                return std::move(*n);
            }
            const std::string text = error_text(answer);
            // "invalid auth token" (401): expired; "revision of auth store is
            // old": users or roles changed since it was issued.
            if (with_auth && attempt == 0 &&
                (answer.status == 401 || text.find("auth token") != std::string::npos ||
                 text.find("auth store is old") != std::string::npos)) {
                std::lock_guard<std::mutex> drop(auth);
                if (token == current) token.clear();  // get a new one, once
                continue;
            }
            if (refused != nullptr) {
                *refused = answer.status;
                return json_node{};
            }
            throw_error(errc::storage_failed, "devflow etcd_store: " + what + ": etcd refused it (HTTP " +
                                                  std::to_string(answer.status) + ": " + text + ")");
        }
    }

    /// One etcd call on the store's channel (see the other overload).
    json_node call(std::string_view path, const secret& body, const std::string& what, int* refused = nullptr,
                   const std::stop_token& stop = {}) {
        return call(store_channel, path, body, what, refused, stop);
    }
};

/// A JSON object member holding `bytes` base64-encoded: "name":"<base64>".
inline void put_base64(std::string& out, std::string_view name, std::string_view bytes) {
    out.append("\"").append(name).append("\":\"").append(base64_encode(bytes)).append("\"");
}

/// The first kv of a range answer (`response` is a RangeResponse), or nullptr.
inline const json_node* first_kv(const json_node& response) {
    const json_node* kvs = response.get("kvs");
    if (kvs == nullptr || kvs->type != json_node::kind::array || kvs->items.empty()) return nullptr;
    return &kvs->items.front();
}

/// A required int64 member of an answer.
inline std::int64_t require_int(const json_node& object, std::string_view name, const std::string& what) {
    const std::optional<std::int64_t> v = int_field(object, name);
    if (!v)
        throw_error(errc::storage_failed, "devflow etcd_store: " + what + ": the answer's " +
                                              std::string(name) + " is not a number");
    return *v;
}

/// Grants a lease of `ttl` seconds; its ID.
inline std::int64_t grant_lease(connection& c, std::chrono::seconds ttl, const std::stop_token& stop = {}) {
    const json_node n = c.call("/v3/lease/grant", secret("{\"TTL\":" + std::to_string(ttl.count()) + "}"),
                               "granting a lease for the etcd lock", nullptr, stop);
    const std::int64_t id = require_int(n, "ID", "granting a lease for the etcd lock");
    if (id == 0) throw_error(errc::storage_failed, "devflow etcd_store: etcd granted no lease");
    return id;
}

/// Revokes a lease (its keys go with it); never throws.
inline void revoke_lease(connection& c, std::int64_t id) noexcept {
    try {
        (void)c.call("/v3/lease/revoke", secret("{\"ID\":\"" + std::to_string(id) + "\"}"),
                     "revoking the etcd lock's lease");
    } catch (...) {
        // Unreachable or already gone: the lease runs out by itself.
    }
}

/// The keep-alive thread's loop: renews the lease every third of its TTL
/// until stopped; marks it lost when etcd says it is gone.
inline void keep_lease_alive(const std::shared_ptr<connection>& c, const std::shared_ptr<channel>& own,
                             const std::shared_ptr<held_lease>& lease, std::stop_token stop) {
    const auto period = std::chrono::duration_cast<std::chrono::milliseconds>(c->settings.lease_ttl) / 3;
    const secret body("{\"ID\":\"" + std::to_string(lease->id) + "\"}");
    while (system_clock{}.sleep_for(period, stop)) {
        try {
            // The thread's stop ends a retry too, so releasing the lock never
            // waits for a cluster that does not answer.
            const json_node n =
                c->call(*own, "/v3/lease/keepalive", body, "keeping the etcd lock's lease alive", nullptr, stop);
            const json_node* result = n.get("result");
            const std::optional<std::int64_t> ttl = result ? int_field(*result, "TTL") : std::nullopt;
            if (!ttl || *ttl <= 0) {
                lease->lost = true;
                return;
            }
        } catch (...) {
            // The cluster may answer again before the lease runs out; if it
            // does not, fencing refuses this holder's writes.
        }
    }
}

}  // namespace detail::etcd

// ---------------------------------------------------------------- key_lock

template <http_client Http>
typename etcd_store<Http>::key_lock& etcd_store<Http>::key_lock::operator=(key_lock&& other) noexcept {
    if (this != &other) {
        unlock();
        store_ = std::move(other.store_);
        lease_ = std::move(other.lease_);
        keep_alive_ = std::move(other.keep_alive_);
    }
    return *this;
}

template <http_client Http>
bool etcd_store<Http>::key_lock::lease_lost() const noexcept {
    return lease_ != nullptr && lease_->lost.load();
}

template <http_client Http>
std::int64_t etcd_store<Http>::key_lock::lease_id() const noexcept {
    return lease_ != nullptr ? lease_->id : 0;
}

template <http_client Http>
void etcd_store<Http>::key_lock::unlock() noexcept {
    if (keep_alive_.joinable()) {
        keep_alive_.request_stop();
        keep_alive_.join();
    }
    if (store_ == nullptr || lease_ == nullptr) {
        store_.reset();
        lease_.reset();
        return;
    }
    try {
        std::lock_guard<std::mutex> guard(store_->book);
        const auto it = store_->leases.find(lease_->key);
        if (it != store_->leases.end() && it->second == lease_->id) store_->leases.erase(it);
    } catch (...) {
    }
    detail::etcd::revoke_lease(*store_, lease_->id);
    store_.reset();
    lease_.reset();
}

// ---------------------------------------------------------------- etcd_store

template <http_client Http>
etcd_store<Http>::etcd_store(Http http, options settings) {
    if (settings.endpoints.empty())
        detail::throw_error(errc::invalid_config, "devflow etcd_store: no etcd endpoint is given");
    for (std::string& url : settings.endpoints) {
        const auto parts = detail::parse_url(url);
        if (!parts || (parts->scheme != "http" && parts->scheme != "https") || parts->has_userinfo)
            detail::throw_error(errc::invalid_config, "devflow etcd_store: the endpoint " +
                                                          detail::display_text(url, 200) +
                                                          " is not an http(s) URL of an etcd member");
        detail::require_secure_endpoint("the etcd endpoint", url, false);
        while (!url.empty() && url.back() == '/') url.pop_back();
    }
    if (settings.prefix.empty())
        detail::throw_error(errc::invalid_config, "devflow etcd_store: the key prefix is empty");
    if (settings.lease_ttl < std::chrono::seconds{2})
        detail::throw_error(errc::invalid_config, "devflow etcd_store: lease_ttl must be at least 2 s");
    if (settings.lock_timeout.count() < 0 || settings.retry_for.count() <= 0)
        detail::throw_error(errc::invalid_config,
                            "devflow etcd_store: lock_timeout must not be negative and retry_for must be positive");
    if (settings.user.empty() && !settings.password.empty())
        detail::throw_error(errc::invalid_config, "devflow etcd_store: a password is given without a user");
    connection_ = std::make_shared<detail::etcd::connection>();
    connection_->settings = std::move(settings);
    auto transport = std::make_shared<Http>(std::move(http));
    connection_->store_channel.send = [transport](const http_request& r) { return transport->send(r); };
    if constexpr (std::is_copy_constructible_v<Http>) {
        // Each keep-alive gets its own copy of the transport (its own connections).
        connection_->make_channel = [transport, shared = connection_->store_channel.transport_mutex] {
            auto ch = std::make_shared<detail::etcd::channel>();
            std::shared_ptr<Http> copy;
            {
                // Never copied while another thread sends through it.
                std::lock_guard<std::mutex> quiet(*shared);
                copy = std::make_shared<Http>(*transport);
            }
            ch->send = [copy](const http_request& r) { return copy->send(r); };
            return ch;
        };
    } else {
        // A move-only transport is shared: one request at a time across channels.
        connection_->make_channel = [transport, shared = connection_->store_channel.transport_mutex] {
            auto ch = std::make_shared<detail::etcd::channel>();
            ch->send = [transport](const http_request& r) { return transport->send(r); };
            ch->transport_mutex = shared;
            return ch;
        };
    }
}

template <http_client Http>
const etcd_options& etcd_store<Http>::settings() const noexcept {
    return connection_->settings;
}

template <http_client Http>
std::string etcd_store<Http>::record_key(std::string_view key) const {
    return connection_->settings.prefix + "/record/" + std::string(key);
}

template <http_client Http>
std::string etcd_store<Http>::lock_key(std::string_view key) const {
    return connection_->settings.prefix + "/lock/" + std::string(key);
}

template <http_client Http>
std::pair<std::optional<secret>, std::int64_t> etcd_store<Http>::read_record(std::string_view key) {
    namespace impl = detail::etcd;
    const std::string etcd_key = record_key(key);
    const std::string what = "reading " + detail::display_text(etcd_key, 200);
    std::string body = "{";
    impl::put_base64(body, "key", etcd_key);
    body.append("}");
    const impl::json_node n = connection_->call("/v3/kv/range", secret(std::move(body)), what);
    const impl::json_node* kv = impl::first_kv(n);
    std::int64_t revision = 0;
    std::optional<secret> record;
    if (kv != nullptr) {
        revision = impl::require_int(*kv, "mod_revision", what);
        const impl::json_node* value = kv->get("value");
        std::optional<std::string> bytes =
            value == nullptr ? std::optional<std::string>(std::string{})
                             : (value->type == impl::json_node::kind::string ? detail::base64_decode(value->text)
                                                                             : std::nullopt);
        if (!bytes) detail::throw_error(errc::storage_failed, "devflow etcd_store: " + what + ": the value is not base64");
        record.emplace(std::move(*bytes));
    }
    return {std::move(record), revision};
}

template <http_client Http>
std::optional<secret> etcd_store<Http>::load(std::string_view key) {
    auto [record, revision] = read_record(key);
    std::lock_guard<std::mutex> guard(connection_->book);
    connection_->revisions.insert_or_assign(std::string(key), revision);
    return std::move(record);
}

template <http_client Http>
void etcd_store<Http>::save(std::string_view key, const secret& record) {
    write(key, &record);
}

template <http_client Http>
void etcd_store<Http>::erase(std::string_view key) {
    write(key, nullptr);
}

template <http_client Http>
void etcd_store<Http>::write(std::string_view key, const secret* record) {
    namespace impl = detail::etcd;
    const std::string etcd_key = record_key(key);
    const std::string lock = lock_key(key);
    std::optional<std::int64_t> revision;  // std::nullopt: never read
    std::int64_t lease = 0;
    {
        std::lock_guard<std::mutex> guard(connection_->book);
        if (const auto it = connection_->revisions.find(key); it != connection_->revisions.end())
            revision = it->second;
        if (const auto it = connection_->leases.find(key); it != connection_->leases.end()) lease = it->second;
    }
    const std::string what = (record != nullptr ? "writing " : "erasing ") + detail::display_text(etcd_key, 200);

    // Sized once: no reallocation leaves a copy of the record in freed memory.
    std::string body;
    body.reserve(1024 + 4 * (etcd_key.size() + lock.size()) +
                 (record != nullptr ? (record->size() + 2) / 3 * 4 : 0));
    body.append("{\"compare\":[");
    bool first = true;
    if (revision || record != nullptr) {
        const std::int64_t expected = revision.value_or(0);
        body.append("{\"result\":\"EQUAL\",\"target\":\"").append(expected > 0 ? "MOD" : "CREATE").append("\",");
        impl::put_base64(body, "key", etcd_key);
        body.append(expected > 0 ? ",\"mod_revision\":\"" : ",\"create_revision\":\"")
            .append(std::to_string(expected))
            .append("\"}");
        first = false;
    }
    if (lease != 0) {
        if (!first) body.append(",");
        body.append("{\"result\":\"EQUAL\",\"target\":\"LEASE\",");
        impl::put_base64(body, "key", lock);
        body.append(",\"lease\":\"").append(std::to_string(lease)).append("\"}");
    }
    body.append("],\"success\":[");
    if (record != nullptr) {
        body.append("{\"request_put\":{");
        impl::put_base64(body, "key", etcd_key);
        body.append(",");
        {
            const secret encoded(detail::base64_encode(record->reveal()));
            body.append("\"value\":\"").append(encoded.reveal()).append("\"");
        }
        body.append("}}");
    } else {
        body.append("{\"request_delete_range\":{");
        impl::put_base64(body, "key", etcd_key);
        body.append("}}");
    }
    // Refused, read back the revisions and the lock's lease, keys only: the
    // answer never carries the record (the tokens, unless sealed).
    body.append("],\"failure\":[{\"request_range\":{");
    impl::put_base64(body, "key", etcd_key);
    body.append(",\"keys_only\":true}},{\"request_range\":{");
    impl::put_base64(body, "key", lock);
    body.append(",\"keys_only\":true}}]}");

    const impl::json_node n = connection_->call("/v3/kv/txn", secret(std::move(body)), what);
    const impl::json_node* succeeded = n.get("succeeded");
    if (succeeded != nullptr && succeeded->type == impl::json_node::kind::boolean && succeeded->boolean) {
        const impl::json_node* header = n.get("header");
        const std::int64_t now = header != nullptr ? impl::require_int(*header, "revision", what) : 0;
        std::lock_guard<std::mutex> guard(connection_->book);
        connection_->revisions.insert_or_assign(std::string(key), record != nullptr ? now : 0);
        return;
    }
    // Refused: say why, from the failure branch's two reads.
    const impl::json_node* responses = n.get("responses");
    auto range_kv = [&](std::size_t i) -> const impl::json_node* {
        if (responses == nullptr || responses->type != impl::json_node::kind::array || responses->items.size() <= i)
            return nullptr;
        const impl::json_node* r = responses->items[i].get("response_range");
        return r != nullptr ? impl::first_kv(*r) : nullptr;
    };
    if (lease != 0) {
        const impl::json_node* lock_kv = range_kv(1);
        if (lock_kv == nullptr || impl::int_field(*lock_kv, "lease").value_or(0) != lease)
            detail::throw_error(errc::storage_failed,
                                "devflow etcd_store: " + what +
                                    " was refused: this store's lock lease ran out, and another process "
                                    "may hold the lock now");
    }
    const impl::json_node* record_kv = range_kv(0);
    const std::int64_t current = record_kv != nullptr ? impl::int_field(*record_kv, "mod_revision").value_or(0) : 0;
    // An answer lost after etcd applied this write, and the request sent
    // again (exchange() moves on to the next member), is refused by this very
    // write: etcd then holds what was being written (for an erase, nothing).
    // Read it back to tell that from another writer's change; only a match
    // is booked, so a real conflict still needs a read by the flow.
    if (record == nullptr && record_kv == nullptr) {
        std::lock_guard<std::mutex> guard(connection_->book);
        connection_->revisions.insert_or_assign(std::string(key), 0);
        return;
    }
    if (record != nullptr && record_kv != nullptr) {
        auto [there, there_revision] = read_record(key);
        if (there && *there == *record) {
            std::lock_guard<std::mutex> guard(connection_->book);
            connection_->revisions.insert_or_assign(std::string(key), there_revision);
            return;
        }
    }
    detail::throw_error(errc::storage_failed,
                        "devflow etcd_store: " + what + " was refused: the record changed in etcd since this store " +
                            (revision ? "read it (revision " + std::to_string(*revision) + ", now " +
                                            std::to_string(current) + ")"
                                      : "last saw it (never read here; load it first)"));
}

template <http_client Http>
typename etcd_store<Http>::key_lock etcd_store<Http>::lock(std::string_view key, std::stop_token stop) {
    return std::move(*acquire(key, true, std::move(stop)));
}

template <http_client Http>
std::optional<typename etcd_store<Http>::key_lock> etcd_store<Http>::try_lock(std::string_view key) {
    return acquire(key, false, {});
}

template <http_client Http>
std::optional<typename etcd_store<Http>::key_lock> etcd_store<Http>::acquire(std::string_view key, bool wait,
                                                                             std::stop_token stop) {
    namespace impl = detail::etcd;
    const std::string lock = lock_key(key);
    const std::string what = "taking the lock " + detail::display_text(lock, 200);
    if (stop.stop_requested())
        detail::throw_error(errc::cancelled, "devflow etcd_store: the wait for a lock was cancelled");

    // A lease, its keep-alive thread, and the transaction that takes the lock
    // with it. Made again when etcd no longer knows the lease (it ran out
    // while this process stalled, or while a request hung on a dying member).
    key_lock held;
    secret request;
    auto lease_up = [&] {
        held.unlock();
        auto lease = std::make_shared<impl::held_lease>();
        lease->id = impl::grant_lease(*connection_, connection_->settings.lease_ttl, stop);
        lease->key = std::string(key);
        held.lease_ = lease;
        held.store_ = connection_;  // from here on, leaving without the lock revokes the lease
        // Made here, not on the new thread: copying the transport must not
        // race this store's own requests (make_channel holds their mutex).
        held.keep_alive_ =
            std::jthread([c = connection_, own = connection_->make_channel(), lease](std::stop_token s) {
                impl::keep_lease_alive(c, own, lease, std::move(s));
            });
        std::string body = "{\"compare\":[{\"result\":\"EQUAL\",\"target\":\"CREATE\",";
        impl::put_base64(body, "key", lock);
        body.append(",\"create_revision\":\"0\"}],\"success\":[{\"request_put\":{");
        impl::put_base64(body, "key", lock);
        body.append(",");
        impl::put_base64(body, "value", impl::holder_name());
        body.append(",\"lease\":\"").append(std::to_string(lease->id)).append("\"}}],\"failure\":[{\"request_range\":{");
        impl::put_base64(body, "key", lock);
        body.append("}}]}");
        request = secret(std::move(body));
    };
    lease_up();

    const auto start = std::chrono::steady_clock::now();
    auto pause = std::chrono::milliseconds{25};
    int regrants = 0;
    for (;;) {
        int refused = 0;
        const impl::json_node n = connection_->call("/v3/kv/txn", request, what, &refused, stop);
        if (refused == 404 && ++regrants <= 3) {  // "requested lease not found"
            lease_up();
            continue;
        }
        if (refused != 0)
            detail::throw_error(errc::storage_failed, "devflow etcd_store: " + what + ": etcd refused it (HTTP " +
                                                          std::to_string(refused) + ")");
        const impl::json_node* succeeded = n.get("succeeded");
        bool ours = succeeded != nullptr && succeeded->type == impl::json_node::kind::boolean && succeeded->boolean;
        if (!ours) {
            // The lock key may already carry this lease: an earlier attempt
            // took it but its answer was lost, and the request was sent again
            // (to another member). That is our lock, not someone else's.
            if (const impl::json_node* responses = n.get("responses");
                responses != nullptr && responses->type == impl::json_node::kind::array && !responses->items.empty())
                if (const impl::json_node* r = responses->items[0].get("response_range"))
                    if (const impl::json_node* kv = impl::first_kv(*r))
                        ours = impl::int_field(*kv, "lease").value_or(0) == held.lease_->id;
        }
        if (ours) {
            std::lock_guard<std::mutex> guard(connection_->book);
            connection_->leases.insert_or_assign(std::string(key), held.lease_->id);
            return std::optional<key_lock>(std::move(held));
        }
        if (!wait) return std::nullopt;  // `held` revokes its lease
        const auto waited = std::chrono::steady_clock::now() - start;
        if (waited >= connection_->settings.lock_timeout) {
            std::string holder = "another process";
            if (const impl::json_node* responses = n.get("responses");
                responses != nullptr && responses->type == impl::json_node::kind::array && !responses->items.empty())
                if (const impl::json_node* r = responses->items[0].get("response_range"))
                    if (const impl::json_node* kv = impl::first_kv(*r))
                        if (const impl::json_node* v = kv->get("value"))
                            if (auto name = detail::base64_decode(v->text)) holder = detail::display_text(*name, 120);
            detail::throw_error(errc::storage_failed,
                                "devflow etcd_store: waited " +
                                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(waited).count()) +
                                    " s for the lock " + detail::display_text(lock, 200) + ", held by " + holder);
        }
        if (!system_clock{}.sleep_for(pause, stop))
            detail::throw_error(errc::cancelled, "devflow etcd_store: the wait for a lock was cancelled");
        pause = std::min(pause * 2, std::chrono::milliseconds{500});
    }
}

}  // namespace devflow
