// devflow — definitions of session_machine (include <devflow/session_machine.hpp>,
// which declares it). Every decision is one of detail/'s pure functions; this
// file sequences them.
#pragma once

#include <devflow/session_machine.hpp>

#include <devflow/detail/device_authorization.hpp>
#include <devflow/detail/lifetimes.hpp>
#include <devflow/detail/prompt.hpp>
#include <devflow/detail/refresh_policy.hpp>
#include <devflow/detail/requests.hpp>
#include <devflow/detail/token_response.hpp>
#include <devflow/detail/validate_config.hpp>

#include <stdexcept>
#include <utility>

namespace devflow {

inline session_machine::session_machine(client_config config) : config_(std::move(config)) {
    detail::validate_config(config_);
    identity_ = detail::identity_of(config_);
    key_ = detail::store_key(identity_);
}

// ------------------------------------------------------------ records

template <class Json>
stored_session session_machine::read_record(Json& json, const std::optional<secret>& bytes) const {
    stored_session out;
    if (!bytes) return out;
    const std::optional<json_object> object = json.parse(bytes->reveal());
    if (!object) {
        out.state = record_status::corrupt;
        return out;
    }
    detail::parsed_record record = detail::record_from_json(*object, identity_);
    out.state = record.status;
    out.owner = std::move(record.owner);
    if (record.status == record_status::ok) {
        out.tokens = std::move(record.tokens);
        out.pending = std::move(record.pending);
        out.endpoints = std::move(record.endpoints);
    }
    return out;
}

template <class Json>
secret session_machine::record_bytes(Json& json, const step& write) const {
    return secret{json.write(detail::record_to_json(identity_, write.record, write.endpoints, write.pending))};
}

// ------------------------------------------------------------ steps

inline void session_machine::log(log_level level, std::string message) {
    logs_.push_back({level, std::move(message)});
}

inline step session_machine::simple(phase next, step::action what) {
    phase_ = next;
    step s;
    s.what = what;
    s.logs = std::exchange(logs_, {});
    return s;
}

inline step session_machine::send(phase next, http_request request) {
    step s = simple(next, step::action::send);
    s.request = std::move(request);
    return s;
}

inline step session_machine::wait(phase next, std::chrono::steady_clock::time_point until) {
    step s = simple(next, step::action::wait);
    s.until = until;
    return s;
}

inline step session_machine::end(step s) {
    if (locked_) {
        // Release the store's lock first; the outcome follows on_unlocked().
        pending_end_ = std::move(s);
        return simple(phase::unlocking, step::action::unlock_store);
    }
    phase_ = phase::idle;
    s.logs = std::exchange(logs_, {});
    return s;
}

inline step session_machine::finish_tokens(token_set t) {
    step s;
    s.what = step::action::done;
    s.tokens = std::move(t);
    return end(std::move(s));
}

inline step session_machine::finish_failure(const error& e) {
    step s;
    s.what = step::action::failed;
    s.failure = e;
    return end(std::move(s));
}

inline step session_machine::finish_failure(errc code, const std::string& message,
                                            server_error_info server) {
    return finish_failure(error(code, message, std::move(server)));
}

inline step session_machine::finish_round(std::chrono::system_clock::time_point next) {
    step s;
    s.what = step::action::done;
    s.next_round = next;
    return end(std::move(s));
}

inline step session_machine::finish_logout(bool revoked) {
    step s;
    s.what = step::action::done;
    s.revoked = revoked;
    return end(std::move(s));
}

inline void session_machine::expect(std::initializer_list<phase> allowed, const char* event) const {
    for (phase p : allowed)
        if (p == phase_) return;
    throw std::logic_error(std::string("devflow::session_machine: ") + event +
                           " does not answer the last step");
}

// ------------------------------------------------------------ events

inline step session_machine::start(operation op, instant now) {
    if (busy()) throw std::logic_error("devflow::session_machine: an operation is already running");
    op_ = op;
    locked_ = false;
    logs_.clear();
    ended_elsewhere_ = false;
    last_state_ = record_status::absent;
    last_owner_ = {};
    last_endpoints_ = {};
    stored_pending_.reset();
    stored_tokens_.reset();
    current_.reset();
    refresh_attempt_ = 0;
    schedule_.reset();
    last_trouble_.clear();
    resumed_ = false;
    browser_opened_ = false;
    revoked_ = true;
    switch (op) {
        case operation::sign_in:
        case operation::get_tokens:
            if (memory_ && detail::access_token_fresh(*memory_, now.wall, config_.refresh_margin))
                return finish_tokens(*memory_);
            // Another process may have refreshed or signed in: a fresh record
            // is served at once, without the store lock.
            return simple(phase::pre_read, step::action::read_store);
        case operation::keep_alive:
            if (!memory_) return simple(phase::keep_alive_read, step::action::read_store);
            return keep_alive_decide(now);
        case operation::logout:
            return simple(phase::locking, step::action::lock_store);
        case operation::refresh:
            rejected_access_ = memory_ ? memory_->access_token : secret{};
            return simple(phase::locking, step::action::lock_store);
    }
    return finish_failure(errc::invalid_config, "unknown operation");
}

inline step session_machine::start_refresh(const secret& refused, instant now) {
    step s = start(operation::refresh, now);
    rejected_access_ = refused;
    return s;
}

inline step session_machine::on_locked(instant now) {
    expect({phase::locking}, "on_locked");
    locked_ = true;
    (void)now;
    return simple(op_ == operation::logout ? phase::logout_read : phase::locked_read,
                  step::action::read_store);
}

inline step session_machine::on_unlocked(instant) {
    expect({phase::unlocking}, "on_unlocked");
    locked_ = false;
    phase_ = phase::idle;
    step s = std::move(pending_end_);
    pending_end_ = {};
    s.logs = std::exchange(logs_, {});
    return s;
}

inline step session_machine::on_record(stored_session found, instant now) {
    expect({phase::pre_read, phase::locked_read, phase::reread_after_grant, phase::keep_alive_read,
            phase::logout_read},
           "on_record");
    last_state_ = found.state;
    last_owner_ = found.owner;
    if (found.state == record_status::ok) last_endpoints_ = found.endpoints;
    if (found.state == record_status::newer)
        // docs/storage.md: a record of a newer format is neither read nor replaced.
        return finish_failure(errc::storage_failed,
                              "the stored token record was written by a newer version of devflow; "
                              "upgrade devflow or use another token store (the record is left as "
                              "it is)");
    const bool has_tokens = found.state == record_status::ok &&
                            (!found.tokens.access_token.empty() || !found.tokens.refresh_token.empty());
    switch (phase_) {
        case phase::pre_read:
            if (has_tokens &&
                detail::access_token_fresh(found.tokens, now.wall, config_.refresh_margin)) {
                store_had_record_ = true;
                memory_ = found.tokens;
                return finish_tokens(std::move(found.tokens));
            }
            // Lock, re-read, decide: whatever another process did while we
            // waited for the lock (refreshed, signed in, signed out) is seen
            // before we act.
            return simple(phase::locking, step::action::lock_store);
        case phase::locked_read:
            stored_pending_ = found.pending;
            if (has_tokens) stored_tokens_ = found.tokens;
            current_ = current_tokens(found);
            if (op_ == operation::keep_alive) return keep_alive_after(now);
            return decide_locked(now);
        case phase::reread_after_grant: {
            // RFC 6749 §5.2 invalid_grant: another process may have rotated
            // the refresh token; use its record if it is newer.
            std::optional<token_set> latest;
            if (has_tokens) latest = found.tokens;
            if (latest && !(latest->refresh_token == current_->refresh_token) &&
                detail::refresh_token_usable(*latest, now.wall)) {
                if (!still_needed(*latest, now)) {
                    memory_ = latest;
                    if (op_ == operation::keep_alive) return finish_round(now.wall);
                    return finish_tokens(std::move(*latest));
                }
                current_ = std::move(latest);
                if (++refresh_attempt_ < 2) return begin_refresh(now);  // with the sibling's token
                return session_over(now);
            }
            log(log_level::warning,
                "the refresh token was rejected (invalid_grant): the session is over");
            store_had_record_ = false;
            memory_.reset();
            if (latest && latest->refresh_token == current_->refresh_token)
                return simple(phase::erasing_dead, step::action::erase_store);
            return session_over(now);
        }
        case phase::keep_alive_read:
            if (has_tokens) {
                store_had_record_ = true;
                memory_ = found.tokens;
                return keep_alive_decide(now);
            }
            // Nobody has signed in yet: look again in a minute.
            return finish_round(now.wall + std::chrono::minutes{1});
        case phase::logout_read: {
            current_ = has_tokens ? std::optional<token_set>(std::move(found.tokens)) : memory_;
            revoked_ = !config_.revocation_endpoint.empty() && current_.has_value();
            return logout_next(now);
        }
        default: break;
    }
    return finish_failure(errc::invalid_config, "unexpected record");
}

inline step session_machine::on_written(bool saved, instant now) {
    expect({phase::saving_refreshed, phase::saving_pending, phase::saving_tokens,
            phase::clearing_pending},
           "on_written");
    switch (phase_) {
        case phase::saving_refreshed:
            memory_ = signed_in_;
            log(log_level::info, "access token refreshed");
            if (op_ == operation::keep_alive) {
                log(log_level::debug, "keep-alive: session refreshed");
                keep_alive_retry_wait_ = detail::keep_alive_first_retry_wait;
                if (!warned_no_room_ && detail::refresh_token_usable(signed_in_, now.wall) &&
                    detail::next_keep_alive(signed_in_, now.wall, config_.keep_alive_margin,
                                            config_.refresh_margin) <= now.wall) {
                    warned_no_room_ = true;
                    log(log_level::warning,
                        "keep-alive: the server's token lifetimes leave no room for the "
                        "keep-alive margin; refreshing at most once a second");
                }
                return finish_round(now.wall);
            }
            return finish_tokens(signed_in_);
        case phase::saving_pending:
            // The pending sign-in is saved (or could not be: it just will not
            // survive a restart). Now the user is asked.
            return [&] {
                step s = simple(phase::prompting, step::action::show_prompt);
                s.prompt = detail::make_prompt(da_, browser_opened_, schedule_->deadline());
                return s;
            }();
        case phase::saving_tokens:
            store_had_record_ = saved;
            memory_ = signed_in_;
            log(log_level::info, "signed in");
            return finish_tokens(signed_in_);
        case phase::clearing_pending:
            return finish_failure(*pending_end_.failure);
        default: break;
    }
    return finish_failure(errc::invalid_config, "unexpected write");
}

inline step session_machine::on_erased(instant now) {
    expect({phase::erasing_dead, phase::logout_erase, phase::clearing_pending}, "on_erased");
    last_state_ = record_status::absent;
    switch (phase_) {
        case phase::erasing_dead: return session_over(now);
        case phase::logout_erase: return finish_logout(revoked_);
        case phase::clearing_pending: return finish_failure(*pending_end_.failure);
        default: break;
    }
    return finish_failure(errc::invalid_config, "unexpected erase");
}

inline step session_machine::on_browser(bool opened, instant now) {
    expect({phase::opening_browser}, "on_browser");
    browser_opened_ = opened;
    // docs/design.md (resumable sign-in): saved with the record before the
    // prompt is shown, so a new process for the key resumes this device code.
    pending_authorization p;
    p.device_code = da_.device_code;
    p.user_code = da_.user_code;
    p.verification_uri = da_.verification_uri;
    p.verification_uri_complete = da_.verification_uri_complete;
    p.expires_at = now.wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                  schedule_->deadline() - now.steady);
    p.interval = schedule_->interval();
    step s = simple(phase::saving_pending, step::action::write_store);
    if (stored_tokens_) {
        s.record = *stored_tokens_;
        s.endpoints = last_endpoints_;
    } else {
        s.endpoints = {config_.token_endpoint, config_.device_authorization_endpoint,
                       config_.revocation_endpoint};
    }
    s.pending = std::move(p);
    stored_pending_ = s.pending;
    return s;
}

inline step session_machine::on_prompted(instant now) {
    expect({phase::prompting}, "on_prompted");
    return next_poll(now);
}

inline step session_machine::on_time(instant now) {
    expect({phase::pace_wait, phase::poll_wait}, "on_time");
    if (phase_ == phase::pace_wait) {
        last_refresh_sent_ = now.steady;
        lifetimes_from_ = detail::lifetime_anchor(now.wall);
        return send(phase::refreshing, detail::refresh_request(config_, current_->refresh_token));
    }
    return poll_now(now);
}

inline step session_machine::poll_now(instant now) {
    // RFC 8628 §3.5: a wait that overran the deadline (a stopped or starved
    // process) sends no poll with the dead code either.
    if (now.steady >= schedule_->deadline())
        return fail_sign_in(error(errc::expired_token,
                                  "the device code expired before the sign-in was approved" +
                                      (last_trouble_.empty() ? std::string{}
                                                             : " (last problem: " + last_trouble_ + ")")),
                            now);
    lifetimes_from_ = detail::lifetime_anchor(now.wall);
    return send(phase::polling, detail::poll_request(config_, da_.device_code));
}

inline step session_machine::on_response(const http_response& response,
                                         const std::optional<json_object>& body, instant now) {
    expect({phase::refreshing, phase::requesting_code, phase::polling, phase::revoking_refresh,
            phase::revoking_access},
           "on_response");
    switch (phase_) {
        case phase::refreshing: return after_refresh_answer(response, body, now);
        case phase::requesting_code: return after_device_answer(response, body, now);
        case phase::polling: return after_poll_answer(response, body, now);
        case phase::revoking_refresh:
        case phase::revoking_access: {
            // RFC 7009 §2.2: 200 means revoked (or already invalid).
            const bool ok = response && response.status == 200;
            if (!ok)
                log(log_level::warning,
                    response ? "revocation endpoint answered HTTP " + std::to_string(response.status)
                             : "revocation request failed: " + response.transport_message);
            revoked_ = revoked_ && ok;
            if (phase_ == phase::revoking_refresh) current_->refresh_token.clear();
            else current_->access_token.clear();
            return logout_next(now);
        }
        default: break;
    }
    return finish_failure(errc::invalid_config, "unexpected answer");
}

inline step session_machine::on_stop(instant now) {
    if (!busy()) throw std::logic_error("devflow::session_machine: no operation to stop");
    (void)now;
    const char* what = "cancelled";
    switch (phase_) {
        case phase::pace_wait:
        case phase::refreshing: what = "refresh cancelled"; break;
        case phase::requesting_code:
        case phase::opening_browser:
        case phase::saving_pending:
        case phase::prompting: what = "sign-in cancelled"; break;
        case phase::poll_wait:
        case phase::polling: what = "sign-in cancelled while waiting for approval"; break;
        default: break;
    }
    // A pending sign-in stays saved: Ctrl-C then `devflow login` resumes it.
    return finish_failure(errc::cancelled, what);
}

// ------------------------------------------------------------ getting tokens

inline std::optional<token_set> session_machine::current_tokens(const stored_session& found) {
    const bool absent = found.state == record_status::absent;
    const bool foreign = found.state == record_status::foreign;
    if (found.state == record_status::ok) {
        store_had_record_ = true;
        if (found.tokens.access_token.empty() && found.tokens.refresh_token.empty())
            return std::nullopt;  // only a pending sign-in
        return found.tokens;
    }
    if (detail::session_ended_elsewhere(store_had_record_, absent, foreign)) {
        // docs/design.md (logout elsewhere): the record this flow saw is gone
        // (or another client's stands in its place): never refresh it back.
        ended_elsewhere_ = true;
        store_had_record_ = false;
        memory_.reset();
        log(log_level::warning, "the session was ended elsewhere: the stored tokens are gone");
        return std::nullopt;
    }
    if (found.state == record_status::corrupt) store_had_record_ = false;
    // The store never held this flow's record (saving failed): memory is all there is.
    return memory_;
}

inline bool session_machine::still_needed(const token_set& t, instant now) const {
    if (op_ == operation::refresh)
        return t.access_token == rejected_access_ ||
               !detail::access_token_fresh(t, now.wall, config_.refresh_margin);
    if (op_ == operation::keep_alive)
        return detail::next_keep_alive(t, now.wall, config_.keep_alive_margin,
                                       config_.refresh_margin) <= now.wall;
    return !detail::access_token_fresh(t, now.wall, config_.refresh_margin);
}

inline std::chrono::steady_clock::duration session_machine::refresh_pace_left(instant now) const {
    if (!last_refresh_sent_) return std::chrono::steady_clock::duration::zero();
    const auto allowed = *last_refresh_sent_ + detail::min_refresh_spacing;
    return allowed > now.steady ? allowed - now.steady : std::chrono::steady_clock::duration::zero();
}

inline step session_machine::decide_locked(instant now) {
    if (op_ == operation::refresh && current_) {
        // Another flow may have refreshed since the token was refused: use
        // its token; otherwise refresh now, however fresh the refused one looked.
        if (!still_needed(*current_, now)) {
            memory_ = current_;
            return finish_tokens(*current_);
        }
        if (detail::refresh_token_usable(*current_, now.wall)) {
            refresh_attempt_ = 0;
            return begin_refresh(now);
        }
        return session_over(now);
    }
    // After a transient refresh failure a still-valid token is served for a
    // while instead of sending every caller's request to a failing server.
    const bool in_backoff = now.steady < refresh_backoff_until_;
    switch (detail::next_session_step(current_, now.wall, config_.refresh_margin, in_backoff)) {
        case detail::session_step::serve:
            memory_ = current_;
            return finish_tokens(*current_);
        case detail::session_step::refresh:
            refresh_attempt_ = 0;
            return begin_refresh(now);
        case detail::session_step::sign_in:
            if (current_) log(log_level::info, "the stored session has no usable refresh token");
            break;
    }
    return session_over(now);
}

inline step session_machine::begin_refresh(instant now) {
    // docs/design.md (refresh pace): at most one refresh request a second.
    if (const auto left = refresh_pace_left(now); left > std::chrono::steady_clock::duration::zero()) {
        // (A token a server refused is never served again: wait instead.)
        if (op_ != operation::refresh && detail::access_token_usable(*current_, now.wall)) {
            memory_ = current_;
            if (op_ == operation::keep_alive) return finish_round(now.wall + std::chrono::ceil<std::chrono::seconds>(left));
            return finish_tokens(*current_);
        }
        return wait(phase::pace_wait, now.steady + left);
    }
    // RFC 6749 §6: grant_type=refresh_token; lifetimes count from the send,
    // less a second (docs/design.md: conservative expiry).
    last_refresh_sent_ = now.steady;
    lifetimes_from_ = detail::lifetime_anchor(now.wall);
    return send(phase::refreshing, detail::refresh_request(config_, current_->refresh_token));
}

inline step session_machine::after_refresh_answer(const http_response& r,
                                                  const std::optional<json_object>& body,
                                                  instant now) {
    const auto outcome = detail::classify_token_response(r, body, now.wall, lifetimes_from_);
    switch (outcome.kind) {
        case detail::token_outcome_kind::success: {
            refresh_backoff_until_ = {};
            // Rotation: store the new refresh token; keep the old one if none came.
            signed_in_ = detail::merge_refreshed(*current_, outcome.tokens);
            step s = simple(phase::saving_refreshed, step::action::write_store);
            s.record = signed_in_;
            s.endpoints = {config_.token_endpoint, config_.device_authorization_endpoint,
                           config_.revocation_endpoint};
            return s;
        }
        case detail::token_outcome_kind::fail:
            if (outcome.code == errc::invalid_grant)
                return simple(phase::reread_after_grant, step::action::read_store);
            // An answer the flow cannot use (a proxy's HTML page with 200) is
            // handled like a transient failure: it loses nothing either.
            if (outcome.code != errc::malformed_response) {
                const error e(outcome.code, "refresh failed: " + outcome.message, outcome.server);
                if (op_ == operation::keep_alive) {
                    log(log_level::warning, std::string("keep-alive: refresh failed, will retry: ") + e.what());
                    const auto retry = keep_alive_retry_wait_;
                    keep_alive_retry_wait_ = detail::next_keep_alive_retry_wait(retry);
                    return finish_round(now.wall + retry);
                }
                return finish_failure(e);
            }
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
    refresh_backoff_until_ = now.steady + detail::transient_refresh_backoff;
    if (op_ == operation::keep_alive) {
        log(log_level::warning, "keep-alive: refresh failed, will retry: " + why);
        const auto retry = keep_alive_retry_wait_;
        keep_alive_retry_wait_ = detail::next_keep_alive_retry_wait(retry);
        return finish_round(now.wall + retry);
    }
    if (op_ != operation::refresh && detail::access_token_usable(*current_, now.wall)) {
        log(log_level::warning, "refresh failed, serving the still-valid access token: " + why);
        memory_ = current_;
        return finish_tokens(*current_);
    }
    return finish_failure(outcome.kind == detail::token_outcome_kind::retry ? errc::transport_failed
                                                                           : errc::malformed_response,
                          "refresh failed and the access token has expired: " + why, outcome.server);
}

inline step session_machine::session_over(instant now) {
    if (op_ == operation::keep_alive) {
        log(log_level::warning,
            "keep-alive: the session has ended at the server; sign in again to continue");
        return finish_failure(errc::reauth_required, "the session has ended at the server");
    }
    // A refresh of a refused token never prompts: its caller (a request in
    // flight, git's credential erase) has no one to show a code to.
    const bool interactive =
        op_ == operation::sign_in ||
        (op_ != operation::refresh && config_.session_end == on_session_end::interactive);
    if (!interactive)
        return finish_failure(errc::reauth_required,
                              ended_elsewhere_ ? "the session was ended elsewhere (signed out); call "
                                                 "login() to sign in again"
                                               : "no valid session is left; call login() to sign in");
    // docs/design.md (no unattended prompt loop): after a sign-in that was
    // denied or expired, only login() prompts again.
    if (op_ != operation::sign_in && sign_in_refused_)
        return finish_failure(errc::reauth_required,
                              "the last sign-in was not approved (denied, or its code expired); "
                              "call login() to sign in again");
    // Still under the store lock: another process that needs tokens waits for
    // this sign-in and then uses its result instead of prompting again.
    return begin_sign_in(now);
}

// ------------------------------------------------------------ signing in

inline step session_machine::begin_sign_in(instant now) {
    // Never replace another client's or issuer's session (a single-file
    // cache shared by two clients): say whose it is instead.
    if (last_state_ == record_status::foreign)
        return finish_failure(errc::invalid_config,
                              "the token store already holds the session of " +
                                  detail::describe_identity(last_owner_) + " under this key; "
                                  "signing in as " + detail::describe_identity(identity_) +
                                  " would replace it: sign that session out first, or give this "
                                  "client a store of its own");
    if (config_.device_authorization_endpoint.empty())
        return finish_failure(errc::invalid_config,
                              "client_config.device_authorization_endpoint is empty");
    sign_in_refused_ = false;
    // docs/design.md (resumable sign-in): a code another process left while
    // its user was approving is polled on, with the same user code, while it
    // still has at least an interval to live.
    if (stored_pending_ && stored_pending_->expires_at - now.wall > stored_pending_->interval) {
        const auto& p = *stored_pending_;
        da_ = {};
        da_.device_code = p.device_code;
        da_.user_code = p.user_code;
        da_.verification_uri = p.verification_uri;
        da_.verification_uri_complete = p.verification_uri_complete;
        da_.expires_in = std::chrono::duration_cast<std::chrono::seconds>(p.expires_at - now.wall);
        da_.interval = p.interval;
        const auto deadline =
            now.steady + std::chrono::duration_cast<std::chrono::steady_clock::duration>(p.expires_at - now.wall);
        schedule_.emplace(now.steady, deadline, da_.interval, config_.poll_margin, config_.max_backoff);
        resumed_ = true;
        browser_opened_ = false;
        log(log_level::info, "resuming the sign-in in progress (the same code)");
        step s = simple(phase::prompting, step::action::show_prompt);
        s.prompt = detail::make_prompt(da_, false, schedule_->deadline(), true);
        return s;
    }
    // RFC 8628 §3.1: the device authorization request. Its expires_in is
    // anchored at the send, less a second of server rounding.
    requested_at_ = now.steady;
    return send(phase::requesting_code, detail::device_authorization_request(config_));
}

inline step session_machine::after_device_answer(const http_response& r,
                                                 const std::optional<json_object>& body,
                                                 instant now) {
    try {
        da_ = detail::read_device_authorization(r, body, config_.max_expires_in);
    } catch (const error& e) {
        return fail_sign_in(e, now);
    }
    // RFC 8628 §3.4: the first poll is one interval after this answer.
    schedule_.emplace(now.steady, detail::device_code_deadline(requested_at_, da_.expires_in),
                      da_.interval, config_.poll_margin, config_.max_backoff);
    // RFC 8628 §3.3.1: open the browser on verification_uri_complete when present.
    step s = simple(phase::opening_browser, step::action::open_browser);
    s.url = da_.verification_uri_complete.empty() ? da_.verification_uri
                                                  : da_.verification_uri_complete;
    return s;
}

inline step session_machine::next_poll(instant now) {
    // RFC 8628 §3.5: never poll past expires_in; give up locally.
    if (schedule_->expired())
        return fail_sign_in(error(errc::expired_token,
                                  "the device code expired before the sign-in was approved" +
                                      (last_trouble_.empty() ? std::string{}
                                                             : " (last problem: " + last_trouble_ + ")")),
                            now);
    if (schedule_->next_poll() > now.steady) return wait(phase::poll_wait, schedule_->next_poll());
    return poll_now(now);
}

inline step session_machine::after_poll_answer(const http_response& r,
                                               const std::optional<json_object>& body, instant now) {
    auto outcome = detail::classify_token_response(r, body, now.wall, lifetimes_from_);
    switch (outcome.kind) {
        case detail::token_outcome_kind::success: {
            // RFC 8628 §3.5: stop polling once tokens arrive.
            signed_in_ = detail::begin_session(std::move(outcome.tokens));
            step s = simple(phase::saving_tokens, step::action::write_store);
            s.record = signed_in_;
            s.endpoints = {config_.token_endpoint, config_.device_authorization_endpoint,
                           config_.revocation_endpoint};
            return s;
        }
        case detail::token_outcome_kind::pending:
            schedule_->on_pending(now.steady);
            break;
        case detail::token_outcome_kind::slow_down:
            // RFC 8628 §3.5: slow_down raises the interval by 5 s for good.
            schedule_->on_slow_down(now.steady, outcome.interval);
            log(log_level::info, "server asked to slow down; polling every " +
                                     std::to_string(schedule_->interval().count()) + " s");
            if (stored_pending_) stored_pending_->interval = schedule_->interval();
            break;
        case detail::token_outcome_kind::retry:
            schedule_->on_retry(now.steady, outcome.retry_after);
            last_trouble_ = outcome.message;
            log(log_level::warning, outcome.message + "; retrying");
            break;
        case detail::token_outcome_kind::fail:
            return fail_sign_in(error(outcome.code, outcome.message, outcome.server), now);
    }
    return next_poll(now);
}

inline step session_machine::fail_sign_in(const error& e, instant now) {
    const errc code = e.value();
    // A resumed code that has expired, was denied or was already used is
    // dropped and a new sign-in starts (docs/design.md: resumable sign-in).
    if (resumed_ && (code == errc::expired_token || code == errc::access_denied ||
                     code == errc::invalid_grant)) {
        log(log_level::info, "the saved sign-in can no longer be used; starting a new one");
        resumed_ = false;
        stored_pending_.reset();
        requested_at_ = now.steady;
        return send(phase::requesting_code, detail::device_authorization_request(config_));
    }
    if (code == errc::access_denied || code == errc::expired_token) sign_in_refused_ = true;
    if (!stored_pending_) return finish_failure(e);
    // The saved device code is wiped on failure: the record goes back to
    // what it held before the sign-in began.
    pending_end_ = {};
    pending_end_.what = step::action::failed;
    pending_end_.failure = e;
    stored_pending_.reset();
    if (stored_tokens_) {
        step s = simple(phase::clearing_pending, step::action::write_store);
        s.record = *stored_tokens_;
        s.endpoints = last_endpoints_;
        return s;
    }
    return simple(phase::clearing_pending, step::action::erase_store);
}

// ------------------------------------------------------------ keep-alive

inline step session_machine::keep_alive_decide(instant now) {
    const token_set& t = *memory_;
    if (!detail::refresh_token_usable(t, now.wall)) {
        log(log_level::warning, t.refresh_token.empty()
                                    ? "keep-alive: the server issued no refresh token; nothing to "
                                      "keep alive"
                                    : "keep-alive: the session has reached its end at the server; "
                                      "sign in again to continue");
        return finish_failure(errc::reauth_required, "the session cannot be kept alive");
    }
    // docs/design.md (refresh pace): never two refreshes within a second,
    // whatever lifetimes the server gives; every wait moves time on.
    const auto due =
        detail::next_keep_alive(t, now.wall, config_.keep_alive_margin, config_.refresh_margin);
    if (const auto wait_for = detail::keep_alive_wait(due, now.wall, refresh_pace_left(now));
        wait_for > std::chrono::steady_clock::duration::zero())
        return finish_round(now.wall +
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(wait_for));
    return simple(phase::locking, step::action::lock_store);
}

inline step session_machine::keep_alive_after(instant now) {
    if (ended_elsewhere_) {
        log(log_level::warning, "keep-alive: the session was ended elsewhere (signed out); stopping");
        return finish_failure(errc::reauth_required, "the session was ended elsewhere");
    }
    if (current_ && detail::refresh_token_usable(*current_, now.wall) && !still_needed(*current_, now)) {
        memory_ = current_;  // a sibling refreshed while we waited for the lock
        return finish_round(now.wall);
    }
    if (!current_ || !detail::refresh_token_usable(*current_, now.wall)) return session_over(now);
    refresh_attempt_ = 0;
    return begin_refresh(now);
}

// ------------------------------------------------------------ logout

inline step session_machine::logout_next(instant now) {
    (void)now;
    // RFC 7009 §2.1: revoking the refresh token ends the grant; the access
    // token is revoked too, for servers that keep them apart.
    if (!config_.revocation_endpoint.empty() && current_) {
        if (!current_->refresh_token.empty())
            return send(phase::revoking_refresh,
                        detail::revocation_request(config_, current_->refresh_token, "refresh_token"));
        if (!current_->access_token.empty())
            return send(phase::revoking_access,
                        detail::revocation_request(config_, current_->access_token, "access_token"));
    }
    memory_.reset();
    store_had_record_ = false;
    // Another client's session under this key is not ours to end.
    if (last_state_ == record_status::foreign) return finish_logout(revoked_);
    return simple(phase::logout_erase, step::action::erase_store);
}

}  // namespace devflow
