// Fuzz target: an OAuth error answer (RFC 6749 §5.2, RFC 8628 §3.5). The
// same body is classified under every status real servers use for errors
// (400, 401, 403, 428 and the transient 429/500/503) and under 200.
// Invariants: the body decides (pending and slow_down never depend on the
// status); transient statuses only ever retry for unknown codes; the server's
// fields are carried verbatim; no message carries a token.
#include "../fuzz_support.hpp"

#include <devflow/detail/json_fields.hpp>
#include <devflow/detail/token_response.hpp>

DEVFLOW_FUZZ_TARGET(error_response) {
    using kind = devflow::detail::token_outcome_kind;
    const std::string_view text = devflow_fuzz::as_text(data, size);
    auto body = devflow::nlohmann_json{}.parse(text);
    if (!body) return 0;
    const bool check_leaks = devflow_fuzz::leak_free(text) && devflow_fuzz::marker_free(*body);
    devflow_fuzz::plant_canaries(*body);
    const auto info = devflow::detail::error_fields(*body, 400);
    const std::optional<devflow::json_object> parsed = std::move(body);

    static constexpr int statuses[] = {400, 401, 403, 428, 429, 500, 503, 200};
    for (const int status : statuses) {
        devflow::http_response resp;
        resp.status = status;
        resp.body = devflow::secret{std::string(text)};
        const auto out = devflow::detail::classify_token_response(resp, parsed, devflow_fuzz::fixed_now());
        if (check_leaks) DEVFLOW_FUZZ_CHECK(devflow_fuzz::leak_free(out.message));
        const bool transient = status == 429 || status >= 500;
        if (!info) {
            // Not an error answer: a 2xx is tokens or malformed, a transient
            // status retries, anything else fails as malformed.
            if (status == 200)
                DEVFLOW_FUZZ_CHECK(out.kind == kind::success ||
                                   (out.kind == kind::fail &&
                                    out.code == devflow::errc::malformed_response));
            else if (transient)
                DEVFLOW_FUZZ_CHECK(out.kind == kind::retry);
            else
                DEVFLOW_FUZZ_CHECK(out.kind == kind::fail &&
                                   out.code == devflow::errc::malformed_response);
            continue;
        }
        // RFC 8628 §3.5: classified by the body first.
        DEVFLOW_FUZZ_CHECK(out.kind != kind::success);
        if (info->error == "authorization_pending") {
            DEVFLOW_FUZZ_CHECK(out.kind == kind::pending);
            continue;
        }
        if (info->error == "slow_down") {
            DEVFLOW_FUZZ_CHECK(out.kind == kind::slow_down);
            const auto iv = devflow::detail::seconds_field(*parsed, "interval", std::chrono::seconds{3600});
            DEVFLOW_FUZZ_CHECK(out.interval.has_value() == (iv.status == devflow::detail::seconds_status::ok));
            continue;
        }
        const auto code = devflow::detail::errc_from_server_error(info->error);
        if (transient && code == devflow::errc::server_error) {
            DEVFLOW_FUZZ_CHECK(out.kind == kind::retry);
            continue;
        }
        DEVFLOW_FUZZ_CHECK(out.kind == kind::fail && out.code == code);
        // RFC 6749 §5.2: error, error_description and error_uri verbatim.
        DEVFLOW_FUZZ_CHECK(out.server.error == info->error);
        DEVFLOW_FUZZ_CHECK(out.server.error_description == info->error_description);
        DEVFLOW_FUZZ_CHECK(out.server.error_uri == info->error_uri);
        DEVFLOW_FUZZ_CHECK(out.server.http_status == status);
    }
    return 0;
}
