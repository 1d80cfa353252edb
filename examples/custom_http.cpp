// Writing your own Http policy (docs/policies.md#http): logging_http wraps
// any devflow::http_client and logs one line per request, with every
// credential redacted. In a real program it wraps curl_http:
//
//     devflow::device_flow flow{cfg, logging_http{devflow::curl_http{}, log_line},
//                               devflow::nlohmann_json{}};
//
// Here it wraps the fake server of devflow/testing.hpp, so the example runs
// anywhere, with no network, in microseconds (CI runs it and checks that no
// token reaches its output).
//
// The contract a model of devflow::http_client keeps:
// - `http_response send(const http_request&)` sends one request and returns
//   its answer, whatever the status (4xx and 5xx are answers too);
// - network trouble comes back as a value (`response.transport` and a
//   `transport_message` free of secrets), never as an exception;
// - redirects are not followed; header names come back lower-case;
// - the flow calls send() from one thread at a time.
// Header values and bodies are devflow::secret: they have no stream operator,
// and only reveal() gives their text. This class never calls reveal().
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/testing.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
static_assert(devflow::http_client<logging_http<devflow::testing::fake_http>>);

int main() {
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http server_side{clock};
    devflow::testing::fake_authorization_server server{server_side, clock};

    std::string log;  // everything logged, to check below
    auto log_line = [&log](std::string_view line) {
        std::printf("http: %.*s\n", static_cast<int>(line.size()), line.data());
        (log += line) += '\n';
    };
    devflow::device_flow flow{server.config(), logging_http{server_side, log_line},
                              devflow::nlohmann_json{}, devflow::memory_store{}, clock,
                              devflow::testing::recording_browser{}};
    flow.on_prompt([](const devflow::prompt_info&) {});

    (void)flow.login();                     // device authorization, polls, tokens
    clock.advance(std::chrono::minutes{5});  // the 5-minute access token expires
    (void)flow.authorization_header();      // a refresh
    (void)flow.logout();                    // revocation

    // Every token the fake server issues contains "CANARY": none may be logged.
    const bool leaked = log.find("CANARY") != std::string::npos;
    const bool logged_all = log.find("/token") != std::string::npos &&
                            log.find("/revoke") != std::string::npos;
    std::printf("%s\n", leaked ? "a credential was logged" : "no credential was logged");
    return !leaked && logged_all ? 0 : 1;
}
