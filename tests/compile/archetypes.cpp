// The minimal models of docs/policies.md, compiled: each models its concept,
// and device_flow instantiates every member function with them.
#include <devflow/device_flow.hpp>

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace archetype {

struct http {
    devflow::http_response send(const devflow::http_request&) { return {}; }
};

struct json {
    std::optional<devflow::json_object> parse(std::string_view) { return std::nullopt; }
    std::string write(const devflow::json_object&) { return "{}"; }
};

struct store {
    std::optional<devflow::secret> load(std::string_view) { return std::nullopt; }
    void save(std::string_view, const devflow::secret&) {}
    void erase(std::string_view) {}
};

struct lockable_store : store {
    struct guard {};
    guard lock(std::string_view) { return {}; }
};

struct clock {
    std::chrono::system_clock::time_point now() { return {}; }
    std::chrono::steady_clock::time_point steady_now() { return {}; }
    bool sleep_for(std::chrono::steady_clock::duration, std::stop_token) { return true; }
};

struct browser {
    bool open(std::string_view) { return false; }
};

}  // namespace archetype

static_assert(devflow::http_client<archetype::http>);
static_assert(devflow::json_codec<archetype::json>);
static_assert(devflow::token_store<archetype::store>);
static_assert(!devflow::lockable_store<archetype::store>);
static_assert(devflow::lockable_store<archetype::lockable_store>);
static_assert(devflow::waitable_clock<archetype::clock>);
static_assert(devflow::browser<archetype::browser>);

// The shipped models.
static_assert(devflow::token_store<devflow::memory_store>);
static_assert(devflow::lockable_store<devflow::memory_store>);
static_assert(devflow::token_store<devflow::file_store>);
static_assert(devflow::lockable_store<devflow::file_store>);
static_assert(devflow::quarantining_store<devflow::file_store>);
static_assert(devflow::waitable_clock<devflow::system_clock>);
static_assert(devflow::browser<devflow::system_browser>);
static_assert(devflow::browser<devflow::no_browser>);

// Negative: near misses are not models.
struct wrong_return_http {
    int send(const devflow::http_request&) { return 0; }
};
static_assert(!devflow::http_client<wrong_return_http>);
struct no_erase_store {
    std::optional<devflow::secret> load(std::string_view) { return std::nullopt; }
    void save(std::string_view, const devflow::secret&) {}
};
static_assert(!devflow::token_store<no_erase_store>);
struct string_store {
    std::optional<std::string> load(std::string_view) { return std::nullopt; }
    void save(std::string_view, const devflow::secret&) {}
    void erase(std::string_view) {}
};
static_assert(!devflow::token_store<string_store>);
struct unstoppable_clock {
    std::chrono::system_clock::time_point now() { return {}; }
    std::chrono::steady_clock::time_point steady_now() { return {}; }
    bool sleep_for(std::chrono::steady_clock::duration) { return true; }
};
static_assert(!devflow::waitable_clock<unstoppable_clock>);

template class devflow::device_flow<archetype::http, archetype::json, archetype::store,
                                    archetype::clock, archetype::browser>;
template class devflow::device_flow<archetype::http, archetype::json, archetype::lockable_store,
                                    archetype::clock, archetype::browser>;
