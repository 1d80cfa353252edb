// Token bytes left in freed memory (docs/security.md S10, S15): this program
// replaces the global allocation functions so that every block freed while a
// check is on is searched for the canary tokens first. A login, a refresh
// and a logout through the flow, the JSON adapter and form encoding, and the
// destruction of a secret must leave no canary in any freed block.
//
// Its own executable: replacing operator new/delete affects the whole program.
#include "catch.hpp"
#include "heap_watch.hpp"

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/detail/form.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/testing/fake_clock.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

// ================================================================ a careful server

namespace {

using namespace std::chrono_literals;

/// A tiny scripted authorization server that never copies a token into
/// memory it frees unwiped (so every canary found in freed memory is
/// devflow's): answers are secrets built at their final size.
class careful_server {
public:
    explicit careful_server(devflow::testing::fake_clock clock) : clock_(std::move(clock)) {}

    devflow::http_response send(const devflow::http_request& request) {
        const std::string_view body = request.body.reveal();
        ++requests_;
        if (request.url.find("/device") != std::string::npos)
            return answer(200, R"({"device_code":"CANARY-device-code-4a1f","user_code":"WDJB-MJHT",)"
                               R"("verification_uri":"https://auth.example.com/device",)"
                               R"("expires_in":600,"interval":5})");
        if (request.url.find("/revoke") != std::string::npos) return answer(200, "");
        if (body.find("grant_type=refresh_token") != std::string_view::npos) {
            ++refreshes_;
            return answer(200, R"({"access_token":"CANARY-access-second-9c2e77","token_type":"Bearer",)"
                               R"("expires_in":300,"refresh_token":"CANARY-refresh-second-7b10",)"
                               R"("refresh_expires_in":1800,"id_token":"CANARY-id-second-55e1"})");
        }
        if (++polls_ < 2) return answer(400, R"({"error":"authorization_pending"})");
        return answer(200, R"({"access_token":"CANARY-access-first-1d4c0b","token_type":"Bearer",)"
                           R"("expires_in":300,"refresh_token":"CANARY-refresh-first-63aa",)"
                           R"("refresh_expires_in":1800,"scope":"openid",)"
                           R"("id_token":"CANARY-id-first-0f9d"})");
    }

    int refreshes() const { return refreshes_; }

private:
    static devflow::http_response answer(int status, std::string_view body) {
        devflow::http_response r;
        r.status = status;
        r.body = devflow::secret{body};
        return r;
    }
    devflow::testing::fake_clock clock_;
    int requests_ = 0;
    int polls_ = 0;
    int refreshes_ = 0;
};

/// Shares one careful_server between the flow and the test.
struct server_handle {
    std::shared_ptr<careful_server> server;
    devflow::http_response send(const devflow::http_request& r) { return server->send(r); }
};

using careful_flow = devflow::device_flow<server_handle, devflow::nlohmann_json, devflow::memory_store,
                                          devflow::testing::fake_clock, devflow::no_browser>;

devflow::client_config config(bool confidential) {
    devflow::client_config c;
    c.issuer = "https://auth.example.com";
    c.device_authorization_endpoint = "https://auth.example.com/device";
    c.token_endpoint = "https://auth.example.com/token";
    c.revocation_endpoint = "https://auth.example.com/revoke";
    c.client_id = "devflow-cli";
    if (confidential) c.client_secret = devflow::secret{"CANARY-client-secret-e3d2"};
    c.scopes = {"openid"};
    return c;
}

}  // namespace

// ================================================================ the tests

TEST_CASE("the heap watch sees a canary left in a freed block", "[memory]") {
    heap_watch watch;
    {
        auto* leak = new std::string("a token CANARY-left-behind-in-the-heap");
        delete leak;  // std::string's destructor frees without wiping
    }
    CHECK(watch.dirty() == 1);
}

TEST_CASE("a destroyed secret leaves no canary in freed heap (docs/security.md S15)", "[memory]") {
    heap_watch watch;
    {
        devflow::secret s{std::string("CANARY-long-secret-value-that-lives-on-the-heap-0123456789")};
        devflow::secret copy = s;                         // copy constructor
        devflow::secret moved = std::move(copy);          // move constructor
        devflow::secret assigned;
        assigned = s;                                      // copy assignment
        assigned = devflow::secret{std::string("CANARY-another-long-secret-on-the-heap-abcdef")};
        (void)moved;
    }
    CHECK(watch.freed() > 0);
    CHECK(watch.dirty() == 0);
}

TEST_CASE("a destroyed secret leaves no canary in storage the test owns (docs/security.md S15)",
          "[memory]") {
    // A short value lives inside the secret itself (the small-string buffer).
    alignas(devflow::secret) unsigned char storage[sizeof(devflow::secret)];
    auto* s = new (storage) devflow::secret{std::string("CANARY-short")};
    REQUIRE(s->reveal() == "CANARY-short");
    s->~secret();
    const std::string_view bytes(reinterpret_cast<const char*>(storage), sizeof storage);
    CHECK(bytes.find("CANARY") == std::string_view::npos);
}

TEST_CASE("form encoding leaves no canary in freed heap (docs/security.md S10)", "[memory]") {
    heap_watch watch;
    {
        const std::string token(200, 'x');
        std::string value = "CANARY-refresh-" + token;
        const devflow::secret body = devflow::detail::form_encode(
            {{"grant_type", "refresh_token"}, {"refresh_token", value}, {"client_id", "devflow-cli"}});
        const devflow::secret basic = devflow::detail::basic_authorization(
            "devflow-cli", devflow::secret{"CANARY-client-secret with spaces & symbols " + token});
        CHECK(body.size() > value.size());
        CHECK(basic.size() > 6);
        devflow::detail::wipe(value);
    }
    CHECK(watch.dirty() == 0);
}

TEST_CASE("the transport core's body buffers and header fields leave no canary in freed heap "
          "(docs/security.md S10)",
          "[memory]") {
    const std::string chunk = "CANARY-access-token-in-a-response-body-0123456789abcdef";
    SECTION("a plain std::string growing does leave copies (the check can fail)") {
        heap_watch watch;
        {
            std::string plain;
            for (int i = 0; i < 64; ++i) plain.append(chunk);
            devflow::detail::wipe(plain);
        }
        CHECK(watch.dirty() > 0);
    }
    SECTION("append_wiping, capped_body and response_header leave none") {
        heap_watch watch;
        {
            std::string grown;
            for (int i = 0; i < 64; ++i) devflow::append_wiping(grown, chunk);
            devflow::detail::wipe(grown);

            devflow::capped_body refused(devflow::http_transport_options{});
            devflow::capped_body kept(devflow::http_transport_options{});
            for (int i = 0; i < 64; ++i) {
                CHECK(refused.append(chunk));
                CHECK(kept.append(chunk));
            }
            const devflow::secret body = kept.take();  // refused is only destroyed
            CHECK(body.size() == 64 * chunk.size());

            std::string value;  // built at its final size: the test's own copies are clean
            value.reserve(chunk.size() + 16);
            value.append("  session=").append(chunk).append(" \r\n");
            const devflow::http_header h = devflow::response_header("Set-Cookie", std::move(value));
            CHECK(h.value.size() == 8 + chunk.size());
            CHECK(h.value.reveal().compare(0, 8, "session=") == 0);
        }
        CHECK(watch.freed() > 0);
        CHECK(watch.dirty() == 0);
    }
}

TEST_CASE("the JSON adapter leaves no canary in freed heap when it parses and writes "
          "(docs/security.md S10)",
          "[memory]") {
    heap_watch watch;
    {
        const devflow::secret text{std::string(
            R"({"access_token":"CANARY-access-token-0123456789abcdef0123456789abcdef",)"
            R"("refresh_token":"CANARY-r\u0065fresh-with-escapes-\"quoted\"-and-more-bytes",)"
            R"("short":"CANARY-s","list":["CANARY-item-one","CANARY-item-two"],)"
            R"("nested":{"deep":"CANARY-nested-value-dropped-by-the-parser"},"expires_in":300})")};
        auto parsed = devflow::nlohmann_json{}.parse(text.reveal());
        REQUIRE(parsed);
        CHECK(parsed->at("refresh_token").string == "CANARY-refresh-with-escapes-\"quoted\"-and-more-bytes");
        const devflow::secret written{devflow::nlohmann_json{}.write(*parsed)};
        CHECK(written.size() > 100);
    }
    CHECK(watch.dirty() == 0);
}

TEST_CASE("a login, a refresh and a logout leave no canary token in freed heap "
          "(docs/security.md S10)",
          "[memory]") {
    for (const bool confidential : {false, true}) {
        INFO("confidential client: " << confidential);
        devflow::testing::fake_clock clock;
        auto server = std::make_shared<careful_server>(clock);
        heap_watch watch;
        {
            careful_flow flow(config(confidential), server_handle{server}, devflow::nlohmann_json{},
                              devflow::memory_store{}, clock, devflow::no_browser{});
            flow.on_prompt([](const devflow::prompt_info&) {});
            flow.on_log([](devflow::log_level, std::string_view) {});
            {
                const devflow::token_set first = flow.login();
                CHECK(first.access_token.reveal() == "CANARY-access-first-1d4c0b");
            }
            clock.advance(250s);  // inside the refresh margin
            {
                const devflow::secret second = flow.access_token();
                CHECK(second.reveal() == "CANARY-access-second-9c2e77");
                devflow::secret header{flow.authorization_header()};
                CHECK(header.size() > 7);
            }
            CHECK(server->refreshes() == 1);
            CHECK(flow.logout());
        }
        CHECK(watch.freed() > 100);
        CHECK(watch.dirty() == 0);
    }
}
