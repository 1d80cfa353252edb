// Fuzz target: one token endpoint answer (RFC 6749 §5.1–5.2, RFC 8628 §3.5)
// as the flow sees it: a status, headers (Retry-After) and a body, written in
// the readable answer format of fuzz_support.hpp, parsed by the nlohmann
// adapter and classified by detail::classify_token_response.
// Invariants: every outcome is consistent with the answer, waits are bounded,
// and no message carries a token.
#include "../fuzz_support.hpp"

#include <devflow/detail/token_response.hpp>

namespace devflow_fuzz::token_response_target {

using devflow::detail::token_outcome_kind;

inline bool is_2xx(int status) { return status >= 200 && status <= 299; }
inline bool is_overloaded(int status) { return status == 429 || (status >= 500 && status <= 599); }

}  // namespace devflow_fuzz::token_response_target

DEVFLOW_FUZZ_TARGET(token_response) {
    namespace self = devflow_fuzz::token_response_target;
    using kind = devflow::detail::token_outcome_kind;
    const auto a = devflow_fuzz::parse_answer(devflow_fuzz::as_text(data, size));
    devflow::http_response resp = devflow_fuzz::to_response(a);

    std::optional<devflow::json_object> body;
    bool check_leaks = devflow_fuzz::leak_free(a.body);
    if (resp) body = devflow::nlohmann_json{}.parse(resp.body.reveal());
    if (body) {
        check_leaks = check_leaks && devflow_fuzz::marker_free(*body);
        devflow_fuzz::plant_canaries(*body);
    }
    const auto now = devflow_fuzz::fixed_now();
    const auto out = devflow::detail::classify_token_response(resp, body, now);

    if (check_leaks) DEVFLOW_FUZZ_CHECK(devflow_fuzz::leak_free(out.message));
    if (out.retry_after) {
        // RFC 9110 §10.2.3, capped at one day by devflow.
        DEVFLOW_FUZZ_CHECK(out.retry_after->count() >= 0 && out.retry_after->count() <= 86400);
        DEVFLOW_FUZZ_CHECK(self::is_overloaded(a.status));
    }
    if (out.interval) DEVFLOW_FUZZ_CHECK(out.interval->count() >= 0 && out.interval->count() <= 3600);

    switch (out.kind) {
        case kind::success: {
            DEVFLOW_FUZZ_CHECK(resp && body && self::is_2xx(a.status));
            DEVFLOW_FUZZ_CHECK(!body->count("error") ||
                               body->at("error").type != devflow::json_value::kind::string);
            DEVFLOW_FUZZ_CHECK(!out.tokens.access_token.empty());
            DEVFLOW_FUZZ_CHECK(out.tokens.token_type == "Bearer");
            DEVFLOW_FUZZ_CHECK(out.tokens.obtained_at == now);
            if (out.tokens.expires_at) DEVFLOW_FUZZ_CHECK(*out.tokens.expires_at >= now);
            if (out.tokens.refresh_expires_at)
                DEVFLOW_FUZZ_CHECK(*out.tokens.refresh_expires_at > now);
            if (check_leaks) {
                // The tokens handed on are the ones the server sent, untouched.
                DEVFLOW_FUZZ_CHECK(out.tokens.access_token.reveal() == body->at("access_token").string);
                if (!out.tokens.refresh_token.empty())
                    DEVFLOW_FUZZ_CHECK(out.tokens.refresh_token.reveal() ==
                                       body->at("refresh_token").string);
            }
            break;
        }
        case kind::pending:
            // RFC 8628 §3.5: decided by the body, whatever the status.
            DEVFLOW_FUZZ_CHECK(body && out.server.error == "authorization_pending");
            break;
        case kind::slow_down:
            DEVFLOW_FUZZ_CHECK(body && out.server.error == "slow_down");
            break;
        case kind::retry:
            DEVFLOW_FUZZ_CHECK(!resp || self::is_overloaded(a.status));
            break;
        case kind::fail:
            DEVFLOW_FUZZ_CHECK(resp);
            DEVFLOW_FUZZ_CHECK(out.code != devflow::errc::transport_failed);
            if (!body) DEVFLOW_FUZZ_CHECK(out.code == devflow::errc::malformed_response);
            if (!out.server.error.empty()) {
                // RFC 6749 §5.2: the server's fields, verbatim.
                DEVFLOW_FUZZ_CHECK(body && body->at("error").string == out.server.error);
                DEVFLOW_FUZZ_CHECK(out.code == devflow::detail::errc_from_server_error(out.server.error));
                DEVFLOW_FUZZ_CHECK(out.server.http_status == a.status);
            }
            break;
    }
    return 0;
}
