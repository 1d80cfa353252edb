// devflow — testing::fake_http: a scripted HTTP server in memory that
// records every request with its virtual time. Part of devflow/testing.hpp.
#pragma once

#include <devflow/detail/form.hpp>
#include <devflow/detail/url.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/testing/fake_clock.hpp>
#include <devflow/types.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow::testing {

/// One request as the fake server saw it. Test code may look at secrets here.
struct recorded_request {
    std::chrono::steady_clock::time_point at;  ///< virtual steady time of arrival
    std::chrono::steady_clock::duration since_start{};  ///< `at` minus the clock's start
    http_method method = http_method::post;
    std::string url;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;
    std::vector<std::pair<std::string, std::string>> form;  ///< decoded body fields

    /// The first form field called `name`, or "" when absent.
    [[nodiscard]] std::string field(std::string_view name) const {
        for (const auto& [k, v] : form)
            if (k == name) return v;
        return {};
    }
    /// True when the form has a field called `name`.
    [[nodiscard]] bool has_field(std::string_view name) const {
        for (const auto& kv : form)
            if (kv.first == name) return true;
        return false;
    }
    /// The header called `name` (lower-case), or "" when absent.
    [[nodiscard]] std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
    /// Seconds since the clock started, as a double (for readable asserts).
    [[nodiscard]] double seconds() const {
        return std::chrono::duration<double>(since_start).count();
    }
};

/// An answer with a JSON (or any) body.
inline http_response respond(int status, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
    http_response r;
    r.status = status;
    r.body = secret{std::move(body)};
    r.headers.push_back({"content-type", secret{"application/json"}});
    for (auto& [name, value] : headers)
        r.headers.push_back({detail::ascii_lower(name), secret{std::move(value)}});
    return r;
}

/// A request that got no answer at all: devflow::transport_failure(why, message).
using devflow::transport_failure;

/// A request that got no answer at all: `why` (a refused connection unless
/// given), with the message "connection refused".
inline http_response transport_failure(transport_error why = transport_error::connect) {
    return devflow::transport_failure(why, "connection refused");
}

/// A devflow::http_client that answers from a script: per URL, first the
/// queued answers in order, then the URL's handler, else 404. Copies share
/// one server, so a test keeps a copy while the flow owns another.
/// Thread-safe; handlers run outside the lock and may touch the server.
class fake_http {
public:
    using handler = std::function<http_response(const recorded_request&)>;

    /// A server timed by `clock` (share the flow's clock).
    explicit fake_http(fake_clock clock = {}) : state_(std::make_shared<state>(std::move(clock))) {}

    /// Sends one request to the scripted server.
    http_response send(const http_request& request) {
        recorded_request rec;
        rec.at = state_->clock.steady_now();
        rec.since_start = rec.at - state_->clock.start();
        rec.method = request.method;
        rec.url = request.url;
        for (const auto& h : request.headers)
            rec.headers[detail::ascii_lower(h.name)] = h.value.reveal();
        rec.body = request.body.reveal();
        rec.form = detail::form_decode(rec.body);

        std::optional<http_response> scripted;
        handler fallback;
        std::chrono::steady_clock::duration latency{};
        {
            std::lock_guard lock(state_->mutex);
            state_->requests.push_back(rec);
            latency = state_->latency;
            auto& r = state_->routes[route_of(request.url)];
            if (!r.queue.empty()) {
                scripted = std::move(r.queue.front());
                r.queue.pop_front();
            } else {
                fallback = r.fallback;
            }
        }
        // The answer takes `latency` of virtual time to come back.
        if (latency.count() > 0) state_->clock.advance(latency);
        if (scripted) return std::move(*scripted);
        if (fallback) return fallback(rec);
        return respond(404, R"({"error":"not_found","error_description":"no route in fake_http"})");
    }

    /// Queues `response` as the next answer to requests for `url`.
    void enqueue(const std::string& url, http_response response) {
        std::lock_guard lock(state_->mutex);
        state_->routes[route_of(url)].queue.push_back(std::move(response));
    }

    /// Answers requests for `url` with `h` once its queue is empty.
    void handle(const std::string& url, handler h) {
        std::lock_guard lock(state_->mutex);
        state_->routes[route_of(url)].fallback = std::move(h);
    }

    /// Makes every answer take `d` of virtual time.
    void set_latency(std::chrono::steady_clock::duration d) {
        std::lock_guard lock(state_->mutex);
        state_->latency = d;
    }

    /// Every request so far, in order of arrival.
    [[nodiscard]] std::vector<recorded_request> requests() const {
        std::lock_guard lock(state_->mutex);
        return state_->requests;
    }

    /// The requests sent to `url`, in order.
    [[nodiscard]] std::vector<recorded_request> requests_to(const std::string& url) const {
        std::lock_guard lock(state_->mutex);
        std::vector<recorded_request> out;
        for (const auto& r : state_->requests)
            if (route_of(r.url) == route_of(url)) out.push_back(r);
        return out;
    }

    /// The clock the server stamps requests with.
    [[nodiscard]] fake_clock clock() const { return state_->clock; }

private:
    static std::string route_of(std::string_view url) {
        return std::string(url.substr(0, url.find('?')));
    }
    struct route_state {
        std::deque<http_response> queue;
        handler fallback;
    };
    struct state {
        explicit state(fake_clock c) : clock(std::move(c)) {}
        fake_clock clock;
        std::mutex mutex;
        std::map<std::string, route_state> routes;
        std::vector<recorded_request> requests;
        std::chrono::steady_clock::duration latency{};
    };
    std::shared_ptr<state> state_;
};

}  // namespace devflow::testing
