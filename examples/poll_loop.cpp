// Driving a sign-in from your own event loop (docs/async.md): the protocol is
// devflow::session_machine, which performs no I/O; this program is its
// driver, built on plain poll(2). While the sign-in waits for the user, the
// loop keeps serving its other file descriptors — here standard input: type
// "status" to see how long the code has left, or "cancel" to stop.
//
//   devflow_example_poll_loop https://sso.example.org/realms/lab my-cli
//
// Requests are sent with the curl adapter (a blocking call: each takes a
// moment; an application that must never block would hand them to its own
// asynchronous client — or use the Asio adapter, which does all of this).
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/discovery.hpp>
#include <devflow/file_store.hpp>
#include <devflow/display.hpp>
#include <devflow/session_machine.hpp>

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

namespace {

devflow::instant now() { return {std::chrono::system_clock::now(), std::chrono::steady_clock::now()}; }

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s ISSUER CLIENT_ID\n", argv[0]);
        return 2;
    }
    try {
        devflow::curl_http http;
        devflow::nlohmann_json json;
        devflow::file_store store;
        devflow::client_config base;
        base.issuer = argv[1];
        base.client_id = argv[2];
        base.scopes = {"openid"};
        devflow::session_machine machine{devflow::discover(http, json, base)};

        std::optional<devflow::file_store::key_lock> lock;
        std::chrono::steady_clock::time_point expires{};
        devflow::step s = machine.start(devflow::operation::sign_in, now());
        while (!s.finished()) {
            for (const auto& line : s.logs)
                std::fprintf(stderr, "devflow: %s\n", devflow::safe_text(line.message).c_str());
            switch (s.what) {
                case devflow::step::action::send: {
                    const devflow::http_response r = http.send(s.request);
                    std::optional<devflow::json_object> body;
                    if (r && !r.body.empty()) body = json.parse(r.body.reveal());
                    s = machine.on_response(r, body, now());
                    break;
                }
                case devflow::step::action::wait: {
                    // The loop's own wait: poll(2) on stdin until the machine's time comes.
                    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                        s.until - std::chrono::steady_clock::now());
                    pollfd in{STDIN_FILENO, POLLIN, 0};
                    const int ready = ::poll(&in, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
                    if (ready > 0 && (in.revents & POLLIN) != 0) {
                        char buf[128];
                        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf - 1);
                        const std::string line(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
                        if (n <= 0 || line.rfind("cancel", 0) == 0) {
                            s = machine.on_stop(now());
                        } else if (line.rfind("status", 0) == 0) {
                            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                                expires - std::chrono::steady_clock::now());
                            std::fprintf(stderr, "still waiting; the code expires in %lld s\n",
                                         static_cast<long long>(secs.count()));
                        }
                        break;  // the same wait step again, unless cancelled
                    }
                    s = machine.on_time(now());
                    break;
                }
                case devflow::step::action::lock_store:
                    lock.emplace(store.lock(machine.store_key()));
                    s = machine.on_locked(now());
                    break;
                case devflow::step::action::unlock_store:
                    lock.reset();
                    s = machine.on_unlocked(now());
                    break;
                case devflow::step::action::read_store:
                    s = machine.on_record(machine.read_record(json, store.load(machine.store_key())),
                                          now());
                    break;
                case devflow::step::action::write_store:
                    store.save(machine.store_key(), machine.record_bytes(json, s));
                    s = machine.on_written(true, now());
                    break;
                case devflow::step::action::erase_store:
                    store.erase(machine.store_key());
                    s = machine.on_erased(now());
                    break;
                case devflow::step::action::open_browser:
                    s = machine.on_browser(false, now());  // show the link instead
                    break;
                case devflow::step::action::show_prompt:
                    expires = s.prompt.expires_at;
                    std::fputs(s.prompt.text.c_str(), stderr);
                    s = machine.on_prompted(now());
                    break;
                default:
                    break;
            }
        }
        if (s.what == devflow::step::action::failed) throw *s.failure;
        std::fprintf(stderr, "signed in; the access token is valid for %lld s\n",
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                *s.tokens->expires_at - std::chrono::system_clock::now())
                                                .count()));
    } catch (const devflow::error& e) {
        std::fprintf(stderr, "sign-in failed: %s\n", e.what());  // never holds a token
        return 1;
    }
}
