// Building blocks of the end-to-end scenarios: the shipped adapters made the
// same way for both, an Http wrapper that watches what the flow sends (and
// lets the simulated user start after N polls), a clock that runs fast, the
// prompt/log capture, and raw requests through an adapter (userinfo, a
// replayed refresh token, a poll after expiry).
#pragma once

#include "canary.hpp"  // echo_captured: DEVFLOW_TEST_VERBOSE=1 prints what was captured
#include "provider.hpp"
#include "simulated_user.hpp"

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/system_clock.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace devflow_test {

// ------------------------------------------------------------ adapters

/// A shipped adapter with short timeouts, trusting `ca_file` when given.
template <class Http>
Http make_adapter(const std::string& ca_file = {});

template <>
inline devflow::curl_http make_adapter<devflow::curl_http>(const std::string& ca_file) {
    devflow::curl_http::options o;
    o.connect_timeout = std::chrono::seconds{5};
    o.total_timeout = std::chrono::seconds{15};
    o.ca_file = ca_file;
    return devflow::curl_http{o};
}

template <>
inline devflow::httplib_http make_adapter<devflow::httplib_http>(const std::string& ca_file) {
    devflow::httplib_http::options o;
    o.connect_timeout = std::chrono::seconds{5};
    o.read_timeout = std::chrono::seconds{15};
    o.write_timeout = std::chrono::seconds{15};
    o.ca_file = ca_file;
    return devflow::httplib_http{o};
}

/// The adapter's name, for messages.
template <class Http>
constexpr std::string_view adapter_name() {
    return std::is_same_v<Http, devflow::curl_http> ? "curl" : "httplib";
}

// ------------------------------------------------------------ observed_http

/// What a request was, from its URL and form body.
enum class exchange_kind { device_authorization, device_code_poll, refresh, revocation, other };

/// One request the flow sent and what came back (no secret kept).
struct exchange {
    exchange_kind kind = exchange_kind::other;
    std::chrono::steady_clock::time_point sent_at;      ///< real steady time
    std::chrono::steady_clock::time_point answered_at;  ///< real steady time
    int status = 0;
    devflow::transport_error transport = devflow::transport_error::none;
    std::string error;  ///< the body's `error`, if any
};

/// What an observed_http saw; shared by its copies and the test.
struct http_journal {
    mutable std::mutex mutex;
    std::vector<exchange> exchanges;
    devflow::secret last_device_code;  ///< from the last poll's body
    /// Called before each request is sent (on the flow's thread).
    std::function<void(exchange_kind)> before_send;
    /// Called after each answer (on the flow's thread).
    std::function<void(const exchange&)> after_answer;

    /// The exchanges of one kind, in order.
    [[nodiscard]] std::vector<exchange> of(exchange_kind kind) const {
        std::lock_guard lock(mutex);
        std::vector<exchange> out;
        for (const auto& e : exchanges)
            if (e.kind == kind) out.push_back(e);
        return out;
    }
};

/// Models devflow::http_client by forwarding to a shipped adapter and noting
/// each exchange in a journal (the adapter does all the real work).
template <class Http>
class observed_http {
public:
    explicit observed_http(Http inner, std::shared_ptr<http_journal> journal = std::make_shared<http_journal>())
        : inner_(std::move(inner)), journal_(std::move(journal)) {}

    /// Sends through the wrapped adapter and records the exchange.
    devflow::http_response send(const devflow::http_request& request) {
        exchange e;
        devflow::secret device_code;
        e.kind = classify(request, device_code);
        if (journal_->before_send) journal_->before_send(e.kind);
        e.sent_at = std::chrono::steady_clock::now();
        devflow::http_response response = inner_.send(request);
        e.answered_at = std::chrono::steady_clock::now();
        e.status = response.status;
        e.transport = response.transport;
        if (response && !response.body.empty()) {
            const auto body = nlohmann::json::parse(response.body.reveal(), nullptr, false);
            if (body.is_object() && body.contains("error") && body["error"].is_string())
                e.error = body["error"].get<std::string>();
        }
        {
            std::lock_guard lock(journal_->mutex);
            journal_->exchanges.push_back(e);
            if (!device_code.empty()) journal_->last_device_code = std::move(device_code);
        }
        if (journal_->after_answer) journal_->after_answer(e);
        return response;
    }

    /// The journal.
    [[nodiscard]] http_journal& journal() const noexcept { return *journal_; }

private:
    static exchange_kind classify(const devflow::http_request& request, devflow::secret& device_code) {
        const auto fields = devflow::detail::form_decode(request.body.reveal());
        std::string grant_type;
        for (const auto& [name, value] : fields) {
            if (name == "grant_type") grant_type = value;
            if (name == "device_code") device_code = devflow::secret{value};
        }
        if (grant_type == "urn:ietf:params:oauth:grant-type:device_code")
            return exchange_kind::device_code_poll;
        if (grant_type == "refresh_token") return exchange_kind::refresh;
        const std::string_view url = request.url;
        auto ends_with = [&url](std::string_view tail) {
            return url.size() >= tail.size() && url.substr(url.size() - tail.size()) == tail;
        };
        if (ends_with("/device/auth")) return exchange_kind::device_authorization;
        if (ends_with("/token/revocation")) return exchange_kind::revocation;
        return exchange_kind::other;
    }

    Http inner_;
    std::shared_ptr<http_journal> journal_;
};

/// An observed adapter whose poll answers are passed on to `user`, so the
/// simulated user can start after the N-th one.
template <class Http>
observed_http<Http> observed_adapter(const provider& p, const std::shared_ptr<simulated_user>& user) {
    auto journal = std::make_shared<http_journal>();
    if (user)
        journal->after_answer = [weak = std::weak_ptr<simulated_user>(user)](const exchange& e) {
            if (e.kind != exchange_kind::device_code_poll) return;
            if (auto u = weak.lock()) u->poll_answered();
        };
    return observed_http<Http>(make_adapter<Http>(p.ca_file()), std::move(journal));
}

// ------------------------------------------------------------ skewed_clock

/// Models devflow::waitable_clock like a virtual machine whose monotonic clock
/// runs `rate` times too fast: its steady time advances `rate` seconds per
/// real second, so its sleeps end early in real time. Wall time is real.
class skewed_clock {
public:
    explicit skewed_clock(double rate) : rate_(rate), origin_(std::chrono::steady_clock::now()) {}

    /// Real wall time.
    [[nodiscard]] std::chrono::system_clock::time_point now() const { return inner_.now(); }

    /// Steady time running `rate` times too fast.
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const {
        const auto real = std::chrono::steady_clock::now() - origin_;
        return origin_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(real * rate_);
    }

    /// Sleeps `duration` of this clock's time: duration / rate in real time.
    bool sleep_for(std::chrono::steady_clock::duration duration, std::stop_token stop) const {
        return inner_.sleep_for(
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration / rate_), stop);
    }

private:
    devflow::system_clock inner_;
    double rate_;
    std::chrono::steady_clock::time_point origin_;
};

// ------------------------------------------------------------ prompt and log

/// The prompts and log lines of a flow, captured instead of printed.
struct flow_output {
    mutable std::mutex mutex;
    std::vector<devflow::prompt_info> prompts;
    std::vector<std::string> logs;

    [[nodiscard]] std::size_t prompt_count() const {
        std::lock_guard lock(mutex);
        return prompts.size();
    }
    [[nodiscard]] devflow::prompt_info last_prompt() const {
        std::lock_guard lock(mutex);
        return prompts.empty() ? devflow::prompt_info{} : prompts.back();
    }
    /// Every prompt text and log line, joined (for leak checks).
    [[nodiscard]] std::string all_text() const {
        std::lock_guard lock(mutex);
        std::string text;
        for (const auto& p : prompts) text += p.text + "\n";
        for (const auto& l : logs) text += l + "\n";
        return text;
    }
    /// True when some log line contains `part`.
    [[nodiscard]] bool logged(std::string_view part) const {
        std::lock_guard lock(mutex);
        for (const auto& l : logs)
            if (l.find(part) != std::string::npos) return true;
        return false;
    }
};

/// Routes the flow's prompt and log callbacks into a flow_output.
template <class Flow>
std::shared_ptr<flow_output> capture_output(Flow& flow) {
    auto out = std::make_shared<flow_output>();
    flow.on_prompt([out](const devflow::prompt_info& p) {
        echo_captured("prompt", p.text);
        std::lock_guard lock(out->mutex);
        out->prompts.push_back(p);
    });
    flow.on_log([out](devflow::log_level, std::string_view message) {
        echo_captured("log", message);
        std::lock_guard lock(out->mutex);
        out->logs.emplace_back(message);
    });
    return out;
}

/// Runs `fn`; the devflow::error it threw (its message echoed under
/// DEVFLOW_TEST_VERBOSE=1), or std::nullopt when it returned.
template <class F>
std::optional<devflow::error> error_from(F&& fn) {
    try {
        std::forward<F>(fn)();
    } catch (const devflow::error& e) {
        echo_captured("error", e.what());
        echo_captured("error_description", e.error_description());
        return e;
    }
    return std::nullopt;
}

/// True when `text` contains none of the non-empty `secrets`.
inline bool leak_free(std::string_view text, const std::vector<const devflow::secret*>& secrets) {
    for (const devflow::secret* s : secrets)
        if (s != nullptr && !s->empty() && text.find(s->reveal()) != std::string_view::npos) return false;
    return true;
}

/// The secrets of a token set, for leak_free().
inline std::vector<const devflow::secret*> secrets_of(const devflow::token_set& t) {
    return {&t.access_token, &t.refresh_token, &t.id_token};
}

// ------------------------------------------------------------ raw requests

/// An answer reduced to what the tests check (the body is JSON or empty).
struct raw_answer {
    int status = 0;
    devflow::transport_error transport = devflow::transport_error::none;
    std::string transport_message;
    nlohmann::json body;  ///< null when not JSON
    /// The body's `error`, or "".
    [[nodiscard]] std::string error() const {
        return body.is_object() && body.contains("error") && body["error"].is_string()
                   ? body["error"].get<std::string>()
                   : std::string{};
    }
};

inline raw_answer reduce(const devflow::http_response& resp) {
    raw_answer a;
    a.status = resp.status;
    a.transport = resp.transport;
    a.transport_message = resp.transport_message;
    if (resp && !resp.body.empty()) a.body = nlohmann::json::parse(resp.body.reveal(), nullptr, false);
    if (a.body.is_discarded()) a.body = nullptr;
    return a;
}

/// GET the provider's userinfo endpoint through a fresh `Http`, with
/// `authorization` ("Bearer ...") unless it is empty.
template <class Http>
raw_answer get_userinfo(const provider& p, const std::string& authorization) {
    Http http = make_adapter<Http>(p.ca_file());
    devflow::http_request req;
    req.method = devflow::http_method::get;
    req.url = p.userinfo_endpoint();
    req.headers.push_back({"accept", devflow::secret{"application/json"}});
    if (!authorization.empty()) req.headers.push_back({"authorization", devflow::secret{authorization}});
    return reduce(http.send(req));
}

/// POST a form to the token endpoint as the public client, through a fresh
/// `Http` (a replayed refresh token, a late poll).
template <class Http>
raw_answer post_token_form(const provider& p, std::vector<devflow::detail::form_field> fields) {
    Http http = make_adapter<Http>(p.ca_file());
    const std::string client_id = p.at("public_client_id");  // form_field holds views
    fields.push_back({"client_id", client_id});
    devflow::http_request req;
    req.method = devflow::http_method::post;
    req.url = p.token_endpoint();
    req.headers.push_back({"content-type", devflow::secret{"application/x-www-form-urlencoded"}});
    req.headers.push_back({"accept", devflow::secret{"application/json"}});
    req.body = devflow::detail::form_encode(fields);
    return reduce(http.send(req));
}

/// A refresh request with `refresh_token`, as an attacker (or a stale copy) would send it.
template <class Http>
raw_answer raw_refresh(const provider& p, const devflow::secret& refresh_token) {
    return post_token_form<Http>(p, {{"grant_type", "refresh_token"},
                                     {"refresh_token", refresh_token.reveal()}});
}

/// Sleeps until the wall clock passes `when` (plus `extra`).
inline void sleep_until_wall(std::chrono::system_clock::time_point when,
                             std::chrono::milliseconds extra = std::chrono::milliseconds{0}) {
    const auto now = std::chrono::system_clock::now();
    if (when + extra > now) std::this_thread::sleep_for(when + extra - now);
}

}  // namespace devflow_test
