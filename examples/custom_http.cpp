// Writing your own Http policy (docs/policies.md, "Writing your own Http
// policy"), two ways:
//
// - toy_http is a transport: it sends requests through an HTTP library of
//   your choice (here a stand-in, toy::client) and keeps the rules every
//   transport keeps with <devflow/http_transport.hpp>, the core that
//   curl_http and httplib_http are built on too: the same settings, the
//   same refusals, the same caps, wiping and failure answers.
// - logging_http is a decorator: it wraps any devflow::http_client and logs
//   one line per request, with every credential redacted. In a real program
//   it wraps curl_http:
//
//     devflow::device_flow flow{cfg, logging_http{devflow::curl_http{}, log_line},
//                               devflow::nlohmann_json{}};
//
// Here the two are stacked on the fake server of devflow/testing.hpp, so the
// example runs anywhere, with no network, in microseconds (CI runs it and
// checks that no token reaches its output).
//
// The contract a model of devflow::http_client keeps:
// - `http_response send(const http_request&)` sends one request and returns
//   its answer, whatever the status (4xx and 5xx are answers too);
// - network trouble comes back as a value (`response.transport` and a
//   `transport_message` free of secrets), never as an exception;
// - redirects are not followed; header names come back lower-case;
// - the flow calls send() from one thread at a time.
// Header values and bodies are devflow::secret: they have no stream operator,
// and only reveal() gives their text. A transport reveals them to hand them
// to its library; logging_http never calls reveal().
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/testing.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// ================================================================ a library

namespace toy {

/// What toy::client sends: views of the caller's strings, nothing copied.
struct request {
    std::string_view method;
    std::string_view url;
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    std::string_view body;
};

/// How toy::client hands an answer over; a callback returning false stops
/// the transfer.
struct callbacks {
    std::function<bool(int status)> on_status;
    std::function<bool(std::string_view name, std::string_view value)> on_header;
    std::function<bool(std::string_view chunk)> on_body;
};

enum class result { ok, stopped, unreachable };

/// A stand-in for the HTTP library a real transport wraps: it hands an answer
/// over the way C libraries do, the status, then one call per header field,
/// then the body in chunks. This one answers from devflow's fake server.
class client {
public:
    explicit client(devflow::testing::fake_http server) : server_(std::move(server)) {}

    result fetch(const request& r, const callbacks& on) {
        devflow::http_request forwarded;
        forwarded.method = r.method == "POST" ? devflow::http_method::post : devflow::http_method::get;
        forwarded.url = std::string(r.url);
        for (const auto& [name, value] : r.headers)
            forwarded.headers.push_back({std::string(name), devflow::secret(value)});
        forwarded.body = devflow::secret(r.body);
        const devflow::http_response answer = server_.send(forwarded);
        if (!answer) return result::unreachable;
        if (!on.on_status(answer.status)) return result::stopped;
        for (const auto& h : answer.headers)
            if (!on.on_header(h.name, h.value.reveal())) return result::stopped;
        const std::string_view body = answer.body.reveal();
        for (std::size_t at = 0; at < body.size(); at += 64)
            if (!on.on_body(body.substr(at, 64))) return result::stopped;
        return result::ok;
    }

private:
    devflow::testing::fake_http server_;
};

}  // namespace toy

// ================================================================ a transport

// [custom-transport]
/// Models devflow::http_client on toy::client with the transport core.
class toy_http {
public:
    using options = devflow::http_transport_options;

    explicit toy_http(toy::client client, options settings = {})
        : client_(std::move(client)), settings_(std::move(settings)) {
        devflow::check_transport_options(settings_, "toy_http");  // invalid_config
    }

    devflow::http_response send(const devflow::http_request& request) {
        using devflow::transport_error;
        // The requests no transport sends, refused in the shipped words.
        if (const char* problem = devflow::http_request_problem(request))
            return devflow::transport_failure(transport_error::other,
                                              std::string("toy_http: ") + problem);
        const devflow::http_url url = *devflow::split_http_url(request.url);
        // A real library also gets settings_.connect_timeout, total_timeout,
        // ca_file, ca_dir, and settings_.proxy unless url.loopback.
        toy::request out{devflow::method_name(request.method), request.url, {},
                         request.body.reveal()};
        for (const auto& h : request.headers) out.headers.emplace_back(h.name, h.value.reveal());
        if (!devflow::has_header(request.headers, "user-agent"))
            out.headers.emplace_back("User-Agent", settings_.user_agent);

        devflow::http_response response;
        devflow::header_tally tally(settings_);
        devflow::capped_body body(settings_);  // wiped unless taken
        std::optional<devflow::response_cap> refused;
        const toy::result done = client_.fetch(
            out, {[&](int status) {
                      response.status = status;
                      return true;
                  },
                  [&](std::string_view name, std::string_view value) {
                      if (!tally.add_field(name, value)) refused = tally.exceeded();
                      if (refused) return false;
                      response.headers.push_back(devflow::response_header(name, std::string(value)));
                      return true;
                  },
                  [&](std::string_view chunk) {
                      if (!body.append(chunk)) refused = devflow::response_cap::body;
                      return !refused;
                  }});
        if (refused) return devflow::too_large_failure("toy_http", *refused, settings_);
        if (done != toy::result::ok)
            return devflow::transport_failure(
                transport_error::connect, "toy_http: no answer from " + url.host_and_port());
        response.body = body.take();
        return response;
    }

private:
    toy::client client_;
    options settings_;
};
// [custom-transport]

static_assert(devflow::http_client<toy_http>);

// ================================================================ a decorator

/// Models devflow::http_client by forwarding each request to `Inner` and
/// logging its method, its URL without query or fragment, the status or the
/// transport failure, and the sizes and header names sent and received.
template <class Inner>
class logging_http {
    static_assert(devflow::http_client<Inner>,
                  "Inner must model devflow::http_client (docs/policies.md#http)");

public:
    /// Where the lines go.
    using sink = std::function<void(std::string_view)>;

    /// Wraps `inner`, logging to `out`.
    logging_http(Inner inner, sink out) : inner_(std::move(inner)), out_(std::move(out)) {}

    /// Sends `request` through the wrapped client and logs the exchange.
    devflow::http_response send(const devflow::http_request& request) {
        devflow::http_response response = inner_.send(request);
        std::string line = request.method == devflow::http_method::post ? "POST " : "GET ";
        line += without_query(request.url);
        line += " [sent " + std::to_string(request.body.size()) + " bytes" +
                names_of(request.headers) + "] -> ";
        if (response) {
            line += "HTTP " + std::to_string(response.status) + " [" +
                    std::to_string(response.body.size()) + " bytes" +
                    names_of(response.headers) + "]";
        } else {
            line += "no answer: " + response.transport_message;  // secret-free by contract
        }
        out_(line);
        return response;
    }

    /// The wrapped client.
    Inner& inner() noexcept { return inner_; }

private:
    // A query string could carry a credential: show that there was one, not what.
    static std::string without_query(std::string_view url) {
        const auto cut = url.find_first_of("?#");
        if (cut == std::string_view::npos) return std::string(url);
        return std::string(url.substr(0, cut)) + "?<redacted>";
    }

    // Header names only: values such as Authorization are credentials.
    static std::string names_of(const std::vector<devflow::http_header>& headers) {
        std::string out;
        for (const auto& h : headers) out += (out.empty() ? "; headers " : ", ") + h.name;
        return out;
    }

    Inner inner_;
    sink out_;
};

// The wrapper is an http_client whatever it wraps.
static_assert(devflow::http_client<logging_http<devflow::curl_http>>);
static_assert(devflow::http_client<logging_http<toy_http>>);

int main() {
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http server_side{clock};
    devflow::testing::fake_authorization_server server{server_side, clock};

    std::string log;  // everything logged, to check below
    auto log_line = [&log](std::string_view line) {
        std::printf("http: %.*s\n", static_cast<int>(line.size()), line.data());
        (log += line) += '\n';
    };
    devflow::device_flow flow{server.config(),
                              logging_http{toy_http{toy::client{server_side}}, log_line},
                              devflow::nlohmann_json{}, devflow::memory_store{}, clock,
                              devflow::testing::recording_browser{}};
    flow.on_prompt([](const devflow::prompt_info&) {});

    (void)flow.login();                     // device authorization, polls, tokens
    clock.advance(std::chrono::minutes{5});  // the 5-minute access token expires
    (void)flow.authorization_header();      // a refresh
    (void)flow.logout();                    // revocation

    // The transport refuses what every transport refuses (credentials in a
    // URL) and keeps the caps (every answer of the fake server is over 16 bytes).
    devflow::http_request bad;
    bad.url = "https://user:CANARY-password@" + server.config().issuer.substr(8) + "/token";
    const bool refused =
        flow.http().inner().send(bad).transport == devflow::transport_error::other;
    toy_http::options small;
    small.max_body_bytes = 16;
    devflow::http_request any;
    any.url = server.config().device_authorization_endpoint;
    const bool capped = toy_http{toy::client{server_side}, small}.send(any).transport ==
                        devflow::transport_error::too_large;

    // Every token the fake server issues contains "CANARY": none may be logged.
    const bool leaked = log.find("CANARY") != std::string::npos;
    const bool logged_all = log.find("/token") != std::string::npos &&
                            log.find("/revoke") != std::string::npos;
    std::printf("%s\n", leaked ? "a credential was logged" : "no credential was logged");
    std::printf("the transport core %s\n",
                refused && capped ? "refused the bad request and capped the body" : "FAILED");
    return !leaked && logged_all && refused && capped ? 0 : 1;
}
