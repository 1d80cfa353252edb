// devflow — definitions of device_flow (include <devflow/device_flow.hpp>,
// which declares it). The decisions are made by the pure functions of
// detail/; this file wires the policies to them.
#pragma once

#include <devflow/device_flow.hpp>

#include <devflow/detail/console.hpp>
#include <devflow/detail/device_authorization.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/detail/polling.hpp>
#include <devflow/detail/prompt.hpp>
#include <devflow/detail/record.hpp>
#include <devflow/detail/refresh_policy.hpp>
#include <devflow/detail/requests.hpp>
#include <devflow/detail/stoppable_mutex.hpp>
#include <devflow/detail/token_response.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/detail/validate_config.hpp>

#include <utility>

namespace devflow {


template <class Http, class Json, class Storage, class Clock, class Browser>
device_flow<Http, Json, Storage, Clock, Browser>::device_flow(client_config config, Http http,
                                                              Json json, Storage store,
                                                              Clock clock, Browser browser)
    : config_(std::move(config)),
      http_(std::move(http)),
      json_(std::move(json)),
      store_(std::move(store)),
      clock_(std::move(clock)),
      browser_(std::move(browser)),
      prompt_(detail::default_prompt),
      log_(detail::default_log) {
    detail::validate_config(config_);
    identity_ = detail::identity_of(config_);
    key_ = detail::store_key(identity_);
}

// ------------------------------------------------------------ public

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::login(std::stop_token stop) {
    if (auto cached = fresh_from_cache()) return std::move(*cached);
    return ensure_tokens(stop, /*explicit_login=*/true);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::string device_flow<Http, Json, Storage, Clock, Browser>::authorization_header(
    std::stop_token stop) {
    {
        // Hot path: a shared lock, one clock reading, one comparison and a
        // string copy (the header is built when the cache is set).
        std::shared_lock lock(cache_mutex_);
        if (!cached_header_.empty() && clock_.now() < fresh_until_)
            return cached_header_.reveal();
    }
    const token_set t = ensure_tokens(stop, /*explicit_login=*/false);
    return "Bearer " + t.access_token.reveal();
}

template <class Http, class Json, class Storage, class Clock, class Browser>
secret device_flow<Http, Json, Storage, Clock, Browser>::access_token(std::stop_token stop) {
    {
        std::shared_lock lock(cache_mutex_);
        if (!cached_header_.empty() && clock_.now() < fresh_until_)
            return cache_->access_token;
    }
    token_set t = ensure_tokens(stop, /*explicit_login=*/false);
    return std::move(t.access_token);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::refresh_refused(const secret& refused,
                                                                           std::stop_token stop) {
    detail::stoppable_lock flow_lock(flow_mutex_, stop);
    throw_if_stopped(stop, "cancelled");
    // Lock, re-read, decide, as every refresh does: a sibling that already
    // replaced the refused token has done the work.
    auto store_lock = lock_store(stop);
    (void)store_lock;
    bool ended_elsewhere = false;
    std::optional<token_set> current = current_tokens(ended_elsewhere);
    const auto still_refused = [&refused](const token_set& t) { return t.access_token == refused; };
    if (current && !still_refused(*current) &&
        detail::access_token_fresh(*current, clock_.now(), config_.refresh_margin)) {
        set_cache(*current);
        return std::move(*current);
    }
    if (current && detail::refresh_token_usable(*current, clock_.now())) {
        log(log_level::info, "the access token was refused: refreshing");
        if (auto refreshed = refresh_under_lock(*current, still_refused, stop))
            return std::move(*refreshed);
    }
    detail::throw_error(errc::reauth_required,
                        ended_elsewhere ? "the session was ended elsewhere (signed out); call "
                                          "login() to sign in again"
                                        : "no valid session is left; call login() to sign in");
}

template <class Http, class Json, class Storage, class Clock, class Browser>
bool device_flow<Http, Json, Storage, Clock, Browser>::logout() {
    detail::stoppable_lock flow_lock(flow_mutex_);
    auto store_lock = lock_store({});
    (void)store_lock;
    const stored_record found = read_store();
    std::optional<token_set> tokens = found.tokens;
    if (!tokens) {
        std::shared_lock lock(cache_mutex_);
        tokens = cache_;
    }
    bool revoked = true;
    if (!config_.revocation_endpoint.empty() && tokens) {
        // RFC 7009 §2.1: revoking the refresh token ends the grant; the access
        // token is revoked too, for servers that keep them apart.
        if (!tokens->refresh_token.empty())
            revoked = revoke(tokens->refresh_token, "refresh_token") && revoked;
        if (!tokens->access_token.empty())
            revoked = revoke(tokens->access_token, "access_token") && revoked;
    } else {
        revoked = false;
    }
    drop_cache();
    store_had_record_ = false;
    // Another client's session under this key is not ours to end.
    if (found.state != detail::record_status::foreign) store_.erase(key_);
    return revoked;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::keep_alive(std::stop_token stop) {
    std::chrono::seconds retry_wait = detail::keep_alive_first_retry_wait;
    bool warned_no_room = false;
    while (!stop.stop_requested()) {
        std::optional<token_set> current;
        {
            std::shared_lock lock(cache_mutex_);
            current = cache_;
        }
        if (!current) {
            detail::stoppable_lock flow_lock(flow_mutex_, stop);
            const stored_record found = read_store();
            if (found.tokens) {
                store_had_record_ = true;
                set_cache(*found.tokens);
            }
            current = found.tokens;
        }
        const auto now = clock_.now();
        if (!current) {
            // Nobody has signed in yet: look again in a minute.
            if (!clock_.sleep_for(std::chrono::minutes{1}, stop)) return;
            continue;
        }
        if (!detail::refresh_token_usable(*current, now)) {
            log(log_level::warning, current->refresh_token.empty()
                                        ? "keep-alive: the server issued no refresh token; "
                                          "nothing to keep alive"
                                        : "keep-alive: the session has reached its end at the "
                                          "server; sign in again to continue");
            return;
        }
        // docs/design.md (keep-alive pace): never two refreshes within a
        // second, whatever lifetimes the server gives; every wait moves time on.
        const auto due = detail::next_keep_alive(*current, now, config_.keep_alive_margin,
                                                 config_.refresh_margin);
        if (const auto wait = detail::keep_alive_wait(due, now, refresh_pace_wait());
            wait > std::chrono::steady_clock::duration::zero()) {
            if (!clock_.sleep_for(wait, stop)) return;
            continue;  // look at the record again: another thread may have refreshed
        }
        try {
            detail::stoppable_lock flow_lock(flow_mutex_, stop);
            auto store_lock = lock_store(stop);
            (void)store_lock;
            const auto km = config_.keep_alive_margin;
            const auto rm = config_.refresh_margin;
            auto still_needed = [this, km, rm](const token_set& t) {
                const auto at = clock_.now();
                return detail::next_keep_alive(t, at, km, rm) <= at;
            };
            bool ended_elsewhere = false;
            std::optional<token_set> latest = current_tokens(ended_elsewhere);
            if (ended_elsewhere) {
                log(log_level::warning,
                    "keep-alive: the session was ended elsewhere (signed out); stopping");
                return;
            }
            if (latest && detail::refresh_token_usable(*latest, clock_.now()) &&
                !still_needed(*latest)) {
                set_cache(*latest);  // a sibling refreshed while we waited for the lock
                continue;
            }
            if (!latest || !refresh_under_lock(*latest, still_needed, stop)) {
                log(log_level::warning,
                    "keep-alive: the session has ended at the server; sign in again to continue");
                return;
            }
            log(log_level::debug, "keep-alive: session refreshed");
            retry_wait = detail::keep_alive_first_retry_wait;
            std::optional<token_set> after;
            {
                std::shared_lock lock(cache_mutex_);
                after = cache_;
            }
            const auto at = clock_.now();
            if (!warned_no_room && after && detail::refresh_token_usable(*after, at) &&
                detail::next_keep_alive(*after, at, km, rm) <= at) {
                warned_no_room = true;
                log(log_level::warning,
                    "keep-alive: the server's token lifetimes leave no room for the keep-alive "
                    "margin; refreshing at most once a second");
            }
        } catch (const error& e) {
            if (e.code() == errc::cancelled) return;
            log(log_level::warning, std::string("keep-alive: refresh failed, will retry: ") + e.what());
            if (!clock_.sleep_for(retry_wait, stop)) return;
            retry_wait = detail::next_keep_alive_retry_wait(retry_wait);
        }
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::jthread device_flow<Http, Json, Storage, Clock, Browser>::start_keep_alive() {
    return std::jthread([this](std::stop_token stop) { keep_alive(stop); });
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::stored_tokens() {
    detail::stoppable_lock flow_lock(flow_mutex_);
    return read_store().tokens;
}

// ------------------------------------------------------------ private

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::fresh_from_cache() {
    std::shared_lock lock(cache_mutex_);
    if (cache_ && detail::access_token_fresh(*cache_, clock_.now(), config_.refresh_margin))
        return cache_;
    return std::nullopt;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::ensure_tokens(std::stop_token stop,
                                                                         bool explicit_login) {
    const bool interactive =
        explicit_login || config_.session_end == on_session_end::interactive;
    // One at a time in this process: threads that queue here find the result
    // of the one before them in the cache (single flight). The wait can be
    // cancelled.
    detail::stoppable_lock flow_lock(flow_mutex_, stop);
    if (auto cached = fresh_from_cache()) return std::move(*cached);

    const auto margin = config_.refresh_margin;
    auto needs_refresh = [this, margin](const token_set& t) {
        return !detail::access_token_fresh(t, clock_.now(), margin);
    };
    // Another process may have refreshed or signed in: a fresh record is
    // served at once, without the store lock.
    if (stored_record found = read_store(); found.tokens && !needs_refresh(*found.tokens)) {
        store_had_record_ = true;
        set_cache(*found.tokens);
        return std::move(*found.tokens);
    }

    // Lock, re-read, decide: whatever another process did while we waited for
    // the lock (refreshed, signed in, signed out) is seen before we act.
    throw_if_stopped(stop, "cancelled");
    auto store_lock = lock_store(stop);
    (void)store_lock;
    bool ended_elsewhere = false;
    std::optional<token_set> current = current_tokens(ended_elsewhere);
    // After a transient refresh failure a still-valid token is served for a
    // while instead of sending every caller's request to a failing server.
    const bool in_backoff = clock_.steady_now() < refresh_backoff_until_;
    switch (detail::next_session_step(current, clock_.now(), margin, in_backoff)) {
        case detail::session_step::serve:
            set_cache(*current);
            return std::move(*current);
        case detail::session_step::refresh:
            if (auto refreshed = refresh_under_lock(*current, needs_refresh, stop))
                return std::move(*refreshed);
            break;  // the session is over
        case detail::session_step::sign_in:
            if (current) log(log_level::info, "the stored session has no usable refresh token");
            break;
    }
    if (!interactive)
        detail::throw_error(errc::reauth_required,
                            ended_elsewhere
                                ? "the session was ended elsewhere (signed out); call login() to "
                                  "sign in again"
                                : "no valid session is left; call login() to sign in");
    // docs/design.md (no unattended prompt loop): after a sign-in that was
    // denied or expired, only login() prompts again.
    if (!explicit_login && sign_in_refused_)
        detail::throw_error(errc::reauth_required,
                            "the last sign-in was not approved (denied, or its code expired); "
                            "call login() to sign in again");
    // Still under the store lock: another process that needs tokens waits for
    // this sign-in and then uses its result instead of prompting again.
    return sign_in(stop);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::sign_in(std::stop_token stop) {
    // Never replace another client's or issuer's session (a single-file
    // cache shared by two clients): say whose it is instead.
    if (const stored_record found = read_store(); found.state == detail::record_status::foreign)
        detail::throw_error(errc::invalid_config,
                            "the token store already holds the session of " +
                                detail::describe_identity(found.owner) + " under this key; "
                                "signing in as " + detail::describe_identity(identity_) +
                                " would replace it: sign that session out first, or give this "
                                "client a store of its own");
    sign_in_refused_ = false;
    try {
        return run_device_flow(stop);
    } catch (const error& e) {
        if (e.value() == errc::access_denied || e.value() == errc::expired_token)
            sign_in_refused_ = true;
        throw;
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
auto device_flow<Http, Json, Storage, Clock, Browser>::lock_store(std::stop_token stop) {
    // docs/design.md: with a lockable store, one refresh or sign-in at a time
    // across processes; the wait is cancellable when the store allows it.
    if constexpr (lockable_store<Storage>) {
        if constexpr (requires { store_.lock(key_, stop); }) {
            return store_.lock(key_, stop);
        } else {
            throw_if_stopped(stop, "cancelled");
            return store_.lock(key_);
        }
    } else {
        return 0;
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::current_tokens(
    bool& ended_elsewhere) {
    stored_record found = read_store();
    if (found.tokens) {
        store_had_record_ = true;
        return std::move(found.tokens);
    }
    if (detail::session_ended_elsewhere(store_had_record_,
                                        found.state == detail::record_status::absent,
                                        found.state == detail::record_status::foreign)) {
        // docs/design.md (logout elsewhere): the record this flow saw is gone
        // (or replaced by another client's), so the session was ended
        // elsewhere: never refresh it back to life from memory.
        ended_elsewhere = true;
        store_had_record_ = false;
        drop_cache();
        log(log_level::warning, "the session was ended elsewhere: the stored tokens are gone");
        return std::nullopt;
    }
    if (found.state == detail::record_status::corrupt) store_had_record_ = false;
    // The store never held this flow's record (saving failed): memory is all there is.
    std::shared_lock lock(cache_mutex_);
    return cache_;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::chrono::steady_clock::duration
device_flow<Http, Json, Storage, Clock, Browser>::refresh_pace_wait() {
    if (!last_refresh_sent_) return std::chrono::steady_clock::duration::zero();
    const auto allowed = *last_refresh_sent_ + detail::min_refresh_spacing;
    const auto now = clock_.steady_now();
    return allowed > now ? allowed - now : std::chrono::steady_clock::duration::zero();
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::refresh_under_lock(
    token_set current, const std::function<bool(const token_set&)>& still_needed,
    std::stop_token stop) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        throw_if_stopped(stop, "refresh cancelled");
        // docs/design.md (refresh pace): at most one refresh request a second
        // per flow, whatever lifetimes the server gives.
        if (const auto wait = refresh_pace_wait(); wait > std::chrono::steady_clock::duration::zero()) {
            if (detail::access_token_usable(current, clock_.now())) {
                set_cache(current);
                return current;
            }
            if (!clock_.sleep_for(wait, stop)) detail::throw_error(errc::cancelled, "refresh cancelled");
        }
        bool session_over = false;
        if (auto refreshed = refresh_once(current, session_over)) return refreshed;
        if (!session_over) break;
        // RFC 6749 §5.2 invalid_grant: before declaring the session over, read
        // the store again: another process may have rotated the refresh token.
        stored_record latest = read_store();
        if (latest.tokens && !(latest.tokens->refresh_token == current.refresh_token) &&
            detail::refresh_token_usable(*latest.tokens, clock_.now())) {
            if (!still_needed(*latest.tokens)) {
                set_cache(*latest.tokens);
                return std::move(latest.tokens);
            }
            current = std::move(*latest.tokens);
            continue;  // one more try with the sibling's newer refresh token
        }
        log(log_level::warning, "the refresh token was rejected (invalid_grant): the session is over");
        if (latest.tokens && latest.tokens->refresh_token == current.refresh_token) store_.erase(key_);
        store_had_record_ = false;
        drop_cache();
        return std::nullopt;
    }
    return std::nullopt;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<token_set> device_flow<Http, Json, Storage, Clock, Browser>::refresh_once(
    const token_set& current, bool& session_over) {
    // RFC 6749 §6: grant_type=refresh_token. No scope: the same scope is kept.
    const http_request req = detail::refresh_request(config_, current.refresh_token);
    last_refresh_sent_ = clock_.steady_now();
    // docs/design.md (conservative expiry): lifetimes count from the send, less a second.
    const auto lifetimes_from = detail::lifetime_anchor(clock_.now());
    const http_response resp = http_.send(req);
    const auto outcome =
        detail::classify_token_response(resp, parse_body(resp), clock_.now(), lifetimes_from);
    switch (outcome.kind) {
        case detail::token_outcome_kind::success: {
            refresh_backoff_until_ = {};
            // Rotation: store the new refresh token; keep the old one if none came.
            token_set merged = detail::merge_refreshed(current, outcome.tokens);
            write_store(merged);
            set_cache(merged);
            log(log_level::info, "access token refreshed");
            return merged;
        }
        case detail::token_outcome_kind::fail:
            if (outcome.code == errc::invalid_grant) {
                session_over = true;
                return std::nullopt;
            }
            // An answer the flow cannot use (a proxy's HTML page with 200) is
            // handled like a transient failure: it loses nothing either.
            if (outcome.code != errc::malformed_response)
                detail::throw_error(outcome.code, "refresh failed: " + outcome.message,
                                    outcome.server);
            break;
        case detail::token_outcome_kind::pending:
        case detail::token_outcome_kind::slow_down:
        case detail::token_outcome_kind::retry:
            break;
    }
    // A transient failure loses nothing: the stored record is untouched and a
    // still-valid access token is served until it really expires.
    const std::string why = outcome.kind == detail::token_outcome_kind::retry ||
                                    outcome.kind == detail::token_outcome_kind::fail
                                ? outcome.message
                                : "token endpoint answered " + outcome.server.error + " to a refresh";
    refresh_backoff_until_ = clock_.steady_now() + detail::transient_refresh_backoff;
    if (detail::access_token_usable(current, clock_.now())) {
        log(log_level::warning, "refresh failed, serving the still-valid access token: " + why);
        set_cache(current);
        return current;
    }
    detail::throw_error(outcome.kind == detail::token_outcome_kind::retry
                            ? errc::transport_failed
                            : errc::malformed_response,
                        "refresh failed and the access token has expired: " + why, outcome.server);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
token_set device_flow<Http, Json, Storage, Clock, Browser>::run_device_flow(std::stop_token stop) {
    if (config_.device_authorization_endpoint.empty())
        detail::throw_error(errc::invalid_config,
                            "client_config.device_authorization_endpoint is empty");
    // No request, browser or prompt once a stop has been asked for.
    throw_if_stopped(stop, "sign-in cancelled");

    // RFC 8628 §3.1: the device authorization request. Its expires_in is
    // anchored at the send, less a second of server rounding (docs/design.md).
    const auto requested_at = clock_.steady_now();
    const http_response resp = http_.send(detail::device_authorization_request(config_));
    // RFC 8628 §3.4: the first poll is one interval after this answer.
    const auto received_at = clock_.steady_now();
    const device_authorization da =
        detail::read_device_authorization(resp, parse_body(resp), config_.max_expires_in);

    detail::poll_schedule schedule(received_at,
                                   detail::device_code_deadline(requested_at, da.expires_in),
                                   da.interval, config_.poll_margin,
                                   config_.max_backoff);

    // RFC 8628 §3.3.1: open the browser on verification_uri_complete when present.
    const std::string& open_url =
        da.verification_uri_complete.empty() ? da.verification_uri : da.verification_uri_complete;
    throw_if_stopped(stop, "sign-in cancelled");
    const bool opened = browser_.open(open_url);
    throw_if_stopped(stop, "sign-in cancelled");
    prompt_(detail::make_prompt(da, opened, schedule.deadline()));

    // RFC 8628 §3.4: the token request, repeated at the schedule's pace.
    const http_request poll = detail::poll_request(config_, da.device_code);
    std::string last_trouble;
    auto give_up_expired = [&last_trouble] {
        detail::throw_error(errc::expired_token,
                            "the device code expired before the sign-in was approved" +
                                (last_trouble.empty() ? std::string{}
                                                      : " (last problem: " + last_trouble + ")"));
    };
    for (;;) {
        // RFC 8628 §3.5: never poll past expires_in; give up locally.
        if (schedule.expired()) give_up_expired();
        const auto now = clock_.steady_now();
        if (schedule.next_poll() > now) {
            if (!clock_.sleep_for(schedule.next_poll() - now, stop))
                detail::throw_error(errc::cancelled, "sign-in cancelled while waiting for approval");
        }
        if (stop.stop_requested())
            detail::throw_error(errc::cancelled, "sign-in cancelled while waiting for approval");
        // RFC 8628 §3.5: a wait that overran the deadline (a stopped or
        // starved process) sends no poll with the dead code either.
        if (clock_.steady_now() >= schedule.deadline()) give_up_expired();

        const auto poll_lifetimes_from = detail::lifetime_anchor(clock_.now());
        const http_response answer = http_.send(poll);
        const auto answered_at = clock_.steady_now();
        auto outcome = detail::classify_token_response(answer, parse_body(answer), clock_.now(),
                                                       poll_lifetimes_from);
        switch (outcome.kind) {
            case detail::token_outcome_kind::success:
                // RFC 8628 §3.5: stop polling once tokens arrive.
                outcome.tokens = detail::begin_session(std::move(outcome.tokens));
                store_had_record_ = write_store(outcome.tokens);
                set_cache(outcome.tokens);
                log(log_level::info, "signed in");
                return std::move(outcome.tokens);
            case detail::token_outcome_kind::pending:
                schedule.on_pending(answered_at);
                break;
            case detail::token_outcome_kind::slow_down:
                // RFC 8628 §3.5: slow_down raises the interval by 5 s for good.
                schedule.on_slow_down(answered_at, outcome.interval);
                log(log_level::info, "server asked to slow down; polling every " +
                                         std::to_string(schedule.interval().count()) + " s");
                break;
            case detail::token_outcome_kind::retry:
                schedule.on_retry(answered_at, outcome.retry_after);
                last_trouble = outcome.message;
                log(log_level::warning, outcome.message + "; retrying");
                break;
            case detail::token_outcome_kind::fail:
                detail::throw_error(outcome.code, outcome.message, outcome.server);
        }
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
bool device_flow<Http, Json, Storage, Clock, Browser>::revoke(const secret& token,
                                                             std::string_view hint) {
    // RFC 7009 §2.1: token and token_type_hint, with client authentication.
    const http_response resp = http_.send(detail::revocation_request(config_, token, hint));
    // RFC 7009 §2.2: 200 means revoked (or already invalid).
    if (resp && resp.status == 200) return true;
    log(log_level::warning, resp ? "revocation endpoint answered HTTP " + std::to_string(resp.status)
                                 : "revocation request failed: " + resp.transport_message);
    return false;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
std::optional<json_object> device_flow<Http, Json, Storage, Clock, Browser>::parse_body(
    const http_response& response) {
    if (!response || response.body.empty()) return std::nullopt;
    return json_.parse(response.body.reveal());
}

template <class Http, class Json, class Storage, class Clock, class Browser>
typename device_flow<Http, Json, Storage, Clock, Browser>::stored_record
device_flow<Http, Json, Storage, Clock, Browser>::read_store() {
    stored_record out;
    std::optional<secret> bytes;
    try {
        bytes = store_.load(key_);
    } catch (const error& e) {
        log(log_level::warning, std::string("cannot read the token store: ") + e.what());
        out.state = detail::record_status::corrupt;  // unreadable: neither ours nor gone
        return out;
    }
    if (!bytes) {
        out.state = detail::record_status::absent;
        return out;
    }
    std::optional<json_object> object = json_.parse(bytes->reveal());
    detail::parsed_record record;
    if (object) record = detail::record_from_json(*object, identity_);
    out.state = record.status;
    out.owner = record.owner;
    if (record.status == detail::record_status::ok) {
        out.tokens = std::move(record.tokens);
        return out;
    }
    if (record.status == detail::record_status::foreign) {
        // docs/design.md: a token is never sent to a server other than its issuer.
        log(log_level::info, "the stored record belongs to another issuer, client or scope set; "
                             "ignoring it");
        return out;
    }
    if (record.status == detail::record_status::newer)
        // docs/storage.md: a record of a newer format is neither read nor replaced.
        detail::throw_error(errc::storage_failed,
                            "the stored token record was written by a newer version of devflow; "
                            "upgrade devflow or use another token store (the record is left as "
                            "it is)");
    // docs/design.md: a corrupt record is set aside with a warning and treated as absent.
    log(log_level::warning, "the stored token record is corrupt; setting it aside");
    if constexpr (quarantining_store<Storage>) {
        try {
            store_.set_aside(key_);
        } catch (const error& e) {
            log(log_level::warning, std::string("cannot set the corrupt record aside: ") + e.what());
        }
    }
    return out;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
bool device_flow<Http, Json, Storage, Clock, Browser>::write_store(const token_set& tokens) {
    const detail::cached_endpoints endpoints{config_.token_endpoint,
                                             config_.device_authorization_endpoint,
                                             config_.revocation_endpoint};
    try {
        store_.save(key_, secret{json_.write(detail::record_to_json(identity_, tokens, endpoints))});
        return true;
    } catch (const error& e) {
        // The tokens stay usable from memory; the user learns why they will
        // not survive a restart.
        log(log_level::warning, std::string("cannot save tokens: ") + e.what());
        return false;
    }
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::drop_cache() {
    std::unique_lock lock(cache_mutex_);
    cache_.reset();
    cached_header_.clear();
    fresh_until_ = {};
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::throw_if_stopped(const std::stop_token& stop,
                                                                       const char* what) {
    if (stop.stop_requested()) detail::throw_error(errc::cancelled, what);
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::set_cache(const token_set& tokens) {
    // What the hot path needs, prepared outside the lock: access_token_fresh()
    // reduced to one comparison, and the header it serves.
    const auto fresh_until =
        tokens.expires_at
            ? *tokens.expires_at - detail::effective_margin(tokens, config_.refresh_margin)
            : std::chrono::system_clock::time_point::max();
    secret header = tokens.access_token.empty() ? secret{}
                                                : secret{"Bearer " + tokens.access_token.reveal()};
    std::unique_lock lock(cache_mutex_);
    cache_ = tokens;
    cached_header_ = std::move(header);
    fresh_until_ = fresh_until;
}

template <class Http, class Json, class Storage, class Clock, class Browser>
void device_flow<Http, Json, Storage, Clock, Browser>::log(log_level level,
                                                          std::string_view message) const {
    // Messages may quote a server; they reach the log made safe to show.
    if (log_) log_(level, detail::display_text(message));
}

}  // namespace devflow
