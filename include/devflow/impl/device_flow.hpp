// devflow — definitions of device_flow (include <devflow/device_flow.hpp>,
// which declares it). device_flow is a blocking driver of session_machine:
// it performs the steps the machine asks for with the policies (send with
// Http, parse with Json, wait with Clock, keep records with Storage, open
// with Browser) and holds no protocol logic of its own.
#pragma once

#include <devflow/device_flow.hpp>

#include <devflow/detail/bearer_challenge.hpp>
#include <devflow/detail/console.hpp>
#include <devflow/detail/display_text.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/detail/refresh_policy.hpp>
#include <devflow/detail/store_steps.hpp>
#include <devflow/detail/stoppable_mutex.hpp>

#include <memory>
#include <utility>

namespace devflow {

template <class Http, class Json, class Storage, class Clock, class Browser>
device_flow<Http, Json, Storage, Clock, Browser>::device_flow(client_config config, Http http,
                                                              Json json, Storage store,
                                                              Clock clock, Browser browser)
    : machine_(std::move(config)),
      http_(std::move(http)),
      json_(std::move(json)),
      store_(std::move(store)),
      clock_(std::move(clock)),
      browser_(std::move(browser)),
      prompt_(detail::default_prompt),
      log_(detail::default_log) {}

// ------------------------------------------------------------ public

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::login(std::stop_token stop) {
    if (auto cached = fresh_from_cache()) return std::move(*cached);
    return ensure_tokens(stop, operation::sign_in);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::string device_flow<Http, Json, Storage, Clock, Browser>::authorization_header(
    std::stop_token stop) {
    // Hot path: one clock reading (a coarse one while far from the refresh
    // time, where the clock has one), a lock and a copy of the header built
    // when the cache was set. One string all the way out, never moved.
    std::string header;
    if (fresh_header(header)) return header;
    const token_set t = ensure_tokens(stop, operation::get_tokens);
    header = "Bearer " + t.access_token.reveal();
    return header;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
secret device_flow<Http, Json, Storage, Clock, Browser>::access_token(std::stop_token stop) {
    {
        std::shared_lock lock(cache_mutex_);
        if (cache_ && !cache_->access_token.empty() && clock_.now() < fresh_until_)
            return cache_->access_token;
    }
    token_set t = ensure_tokens(stop, operation::get_tokens);
    return std::move(t.access_token);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
template <class Transport>
http_response device_flow<Http, Json, Storage, Clock, Browser>::send_authorized(
    Transport& transport, std::string_view origin, http_request request, std::stop_token stop) {
    static_assert(http_client<Transport>,
                  "Transport must model devflow::http_client (docs/policies.md#http)");
    // The token goes to the origin the caller named, and only over https
    // (loopback excepted): docs/design.md, authorized requests.
    detail::require_same_origin(origin, request.url,
                                config().insecure_allow_http_for_non_loopback_hosts);
    auto send_with = [&](const secret& token) {
        http_request attempt = request;
        std::erase_if(attempt.headers, [](const http_header& h) {
            return detail::ascii_lower(h.name) == "authorization";
        });
        attempt.headers.push_back({"authorization", secret{"Bearer " + token.reveal()}});
        return transport.send(attempt);
    };
    const secret first = access_token(stop);
    http_response answer = send_with(first);
    // RFC 6750 §3.1: invalid_token — refreshed once (single flight), retried once.
    if (!detail::token_refused(answer)) return answer;
    const secret second = refresh_refused(first, stop).access_token;
    log(log_level::info, "the resource server refused the access token (invalid_token); retrying "
                         "once with a new one");
    return send_with(second);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
http_response device_flow<Http, Json, Storage, Clock, Browser>::send_authorized(
    std::string_view origin, http_request request, std::stop_token stop) {
    // The flow's own transport is used by one operation at a time: the
    // request goes out between them, never during a refresh.
    struct shared_transport {
        device_flow& flow;
        std::stop_token stop;
        http_response send(const http_request& r) {
            detail::stoppable_lock lock(flow.flow_mutex_, stop);
            return flow.http_.send(r);
        }
    } transport{*this, stop};
    return send_authorized(transport, origin, std::move(request), stop);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::refresh_refused(const secret& refused,
                                                                           std::stop_token stop) {
    // The machine's refresh of a refused token: under the store lock, after
    // re-reading the store (a sibling that already replaced it has done the
    // work), never a prompt.
    detail::stoppable_lock flow_lock(flow_mutex_, stop);
    const step s = drive(machine_.start_refresh(refused, now()), stop);
    sync_cache();
    if (s.what == step::action::failed) throw *s.failure;
    return *s.tokens;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
bool device_flow<Http, Json, Storage, Clock, Browser>::logout() {
    detail::stoppable_lock flow_lock(flow_mutex_);
    const step s = drive(machine_.start(operation::logout, now()), {});
    sync_cache();
    if (s.what == step::action::failed) throw *s.failure;
    return s.revoked;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::keep_alive(std::stop_token stop) {
    // One round at a time: the machine refreshes when the idle limit is near
    // and says when to look again; it ends the rounds when the session ends.
    while (!stop.stop_requested()) {
        std::optional<std::chrono::system_clock::time_point> next;
        try {
            detail::stoppable_lock flow_lock(flow_mutex_, stop);
            const step s = drive(machine_.start(operation::keep_alive, now()), stop);
            sync_cache();
            if (s.what == step::action::failed) return;  // ended, or cancelled (already logged)
            next = s.next_round;
        } catch (const error& e) {
            if (e.code() == errc::cancelled) return;
            throw;
        }
        const auto wall = clock_.now();
        // Every round moves time on, however the server's lifetimes fall.
        const auto wait = next && *next > wall
                              ? std::chrono::ceil<std::chrono::steady_clock::duration>(*next - wall)
                              : std::chrono::steady_clock::duration::zero();
        if (wait > std::chrono::steady_clock::duration::zero() && !clock_.sleep_for(wait, stop))
            return;
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::jthread device_flow<Http, Json, Storage, Clock, Browser>::start_keep_alive() {
    return std::jthread([this](std::stop_token stop) { keep_alive(stop); });
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::stored_tokens() {
    detail::stoppable_lock flow_lock(flow_mutex_);
    stored_session found = read_store();
    if (found.state == record_status::newer)
        detail::throw_error(errc::storage_failed,
                            "the stored token record was written by a newer version of devflow; "
                            "upgrade devflow or use another token store (the record is left as "
                            "it is)");
    if (found.state != record_status::ok ||
        (found.tokens.access_token.empty() && found.tokens.refresh_token.empty()))
        return std::nullopt;
    return std::move(found.tokens);
}

// ------------------------------------------------------------ driving

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::ensure_tokens(std::stop_token stop,
                                                                         operation op) {
    // One at a time in this process: threads that queue here find the result
    // of the one before them in the cache (single flight). The wait can be
    // cancelled.
    detail::stoppable_lock flow_lock(flow_mutex_, stop);
    if (auto cached = fresh_from_cache()) return std::move(*cached);
    const step s = drive(machine_.start(op, now()), stop);
    sync_cache();
    if (s.what == step::action::failed) throw *s.failure;
    return *s.tokens;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
step device_flow<Http, Json, Storage, Clock, Browser>::drive(step s, std::stop_token stop) {
    // Held from the machine's lock_store step to its unlock_store step; a
    // failure that escapes releases it on the way out. (On the heap rather
    // than in a std::optional: g++ 12 at -O3 warns that an optional's lock
    // may be read uninitialized on the way out, a false positive.)
    using lock_type = decltype(lock_store(stop));
    std::unique_ptr<lock_type> store_lock;
    try {
        for (;;) {
            for (const log_entry& line : s.logs) log(line.level, line.message);
            s.logs.clear();
            switch (s.what) {
                case step::action::done:
                case step::action::failed:
                    return s;
                case step::action::send:
                    // No request once a stop has been asked for.
                    if (stop.stop_requested()) {
                        s = machine_.on_stop(now());
                    } else {
                        const http_response answer = http_.send(s.request);
                        s = machine_.on_response(answer, parse_body(answer), now());
                    }
                    break;
                case step::action::wait: {
                    const auto left = s.until - clock_.steady_now();
                    const bool slept = left <= std::chrono::steady_clock::duration::zero() ||
                                       clock_.sleep_for(left, stop);
                    s = slept && !stop.stop_requested() ? machine_.on_time(now())
                                                        : machine_.on_stop(now());
                    break;
                }
                case step::action::lock_store:
                    if (stop.stop_requested()) {
                        s = machine_.on_stop(now());
                        break;
                    }
                    try {
                        store_lock = std::make_unique<lock_type>(lock_store(stop));
                    } catch (const error& e) {
                        if (e.code() != errc::cancelled) throw;
                        s = machine_.on_stop(now());
                        break;
                    }
                    s = machine_.on_locked(now());
                    break;
                case step::action::unlock_store:
                    store_lock.reset();
                    s = machine_.on_unlocked(now());
                    break;
                case step::action::read_store:
                    s = machine_.on_record(read_store(), now());
                    break;
                case step::action::write_store: {
                    const bool saved = write_store(s);
                    s = machine_.on_written(saved, now());
                    break;
                }
                case step::action::erase_store:
                    store_.erase(machine_.store_key());
                    s = machine_.on_erased(now());
                    break;
                case step::action::open_browser:
                    // No browser once a stop has been asked for.
                    if (stop.stop_requested()) {
                        s = machine_.on_stop(now());
                    } else {
                        const bool opened = browser_.open(s.url);
                        s = machine_.on_browser(opened, now());
                    }
                    break;
                case step::action::show_prompt:
                    // No prompt once a stop has been asked for.
                    if (stop.stop_requested()) {
                        s = machine_.on_stop(now());
                    } else {
                        prompt_(s.prompt);
                        s = machine_.on_prompted(now());
                    }
                    break;
            }
        }
    } catch (...) {
        machine_.abandon();
        throw;
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
auto device_flow<Http, Json, Storage, Clock, Browser>::lock_store(std::stop_token stop) {
    // docs/design.md: with a lockable store, one refresh or sign-in at a time
    // across processes; the wait is cancellable when the store allows it.
    if constexpr (lockable_store<Storage>) {
        if constexpr (requires { store_.lock(machine_.store_key(), stop); }) {
            return store_.lock(machine_.store_key(), stop);
        } else {
            return store_.lock(machine_.store_key());
        }
    } else {
        (void)stop;
        return 0;
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
instant device_flow<Http, Json, Storage, Clock, Browser>::now() {
    return {clock_.now(), clock_.steady_now()};
}

// ------------------------------------------------------------ the store

template <class Http, class Json, class Storage, class Clock, class Browser>
stored_session device_flow<Http, Json, Storage, Clock, Browser>::read_store() {
    return detail::read_session(machine_, json_, store_,
                                [this](log_level level, std::string_view m) { log(level, m); });
}

template <class Http, class Json, class Storage, class Clock, class Browser>
bool device_flow<Http, Json, Storage, Clock, Browser>::write_store(const step& s) {
    return detail::write_session(machine_, json_, store_, s,
                                 [this](log_level level, std::string_view m) { log(level, m); });
}

// ------------------------------------------------------------ the hot path's cache

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::fresh_from_cache() {
    std::shared_lock lock(cache_mutex_);
    if (cache_ && detail::access_token_fresh(*cache_, clock_.now(), config().refresh_margin))
        return cache_;
    return std::nullopt;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::sync_cache() {
    if (const auto& tokens = machine_.tokens())
        set_cache(*tokens);
    else
        drop_cache();
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::set_cache(const token_set& tokens) {
    // What the hot path needs, prepared outside the lock: access_token_fresh()
    // reduced to one comparison, and the header it serves.
    const auto fresh_until =
        tokens.expires_at
            ? *tokens.expires_at - detail::effective_margin(tokens, config().refresh_margin)
            : std::chrono::system_clock::time_point::max();
    secret header = tokens.access_token.empty() ? secret{}
                                                : secret{"Bearer " + tokens.access_token.reveal()};
    std::unique_lock lock(cache_mutex_);
    cache_ = tokens;
    fresh_until_ = fresh_until;
    if (header.empty())
        header_.clear();
    else
        header_.publish(std::move(header), fresh_until);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::drop_cache() {
    std::unique_lock lock(cache_mutex_);
    cache_.reset();
    fresh_until_ = {};
    header_.clear();
}

// ------------------------------------------------------------ helpers

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<json_object> device_flow<Http, Json, Storage, Clock, Browser>::parse_body(
    const http_response& response) {
    if (!response || response.body.empty()) return std::nullopt;
    return json_.parse(response.body.reveal());
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::log(log_level level,
                                                          std::string_view message) const {
    // Messages may quote a server; they reach the log made safe to show.
    if (log_) log_(level, detail::display_text(message));
}

}  // namespace devflow
