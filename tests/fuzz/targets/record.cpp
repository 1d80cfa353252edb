// Fuzz target: a stored token record (docs/design.md §3), from the bytes a file
// holds through the nlohmann adapter into detail::record_from_json, for the
// identity the flow would expect.
// Invariants: reading never throws (a corrupt record is set aside, never a
// crash); a record read as usable is written back by record_to_json and the
// adapter and reads back the same (a save/load cycle is stable); only a
// record of the expected identity is `ok`.
#include "../fuzz_support.hpp"

#include <devflow/detail/record.hpp>

namespace devflow_fuzz::record_target {

inline bool same_tokens(const devflow::token_set& a, const devflow::token_set& b) {
    return a.access_token.reveal() == b.access_token.reveal() && a.token_type == b.token_type &&
           a.expires_at == b.expires_at && a.refresh_token.reveal() == b.refresh_token.reveal() &&
           a.refresh_expires_at == b.refresh_expires_at && a.scope == b.scope &&
           a.id_token.reveal() == b.id_token.reveal() && a.obtained_at == b.obtained_at;
}

inline bool same_endpoints(const devflow::detail::cached_endpoints& a,
                           const devflow::detail::cached_endpoints& b) {
    return a.token_endpoint == b.token_endpoint &&
           a.device_authorization_endpoint == b.device_authorization_endpoint &&
           a.revocation_endpoint == b.revocation_endpoint;
}

}  // namespace devflow_fuzz::record_target

DEVFLOW_FUZZ_TARGET(record) {
    namespace self = devflow_fuzz::record_target;
    namespace d = devflow::detail;
    const devflow::nlohmann_json json;
    const auto doc = json.parse(devflow_fuzz::as_text(data, size));
    if (!doc) return 0;
    const d::record_identity expected{"https://sso.example.org/realms/demo", "cli",
                                      "offline_access openid"};
    const auto first = d::record_from_json(*doc, expected);  // must not throw
    if (first.status == d::record_status::corrupt) return 0;
    // A record of a newer format is recognised by its version alone.
    if (first.status == d::record_status::newer) return 0;

    DEVFLOW_FUZZ_CHECK(first.tokens.token_type == "Bearer");
    const auto issuer = d::string_field(*doc, "issuer");
    const auto client = d::string_field(*doc, "client_id");
    const auto scopes = d::string_field(*doc, "requested_scope");
    DEVFLOW_FUZZ_CHECK(issuer && client && scopes);
    const d::record_identity found{std::string(*issuer), std::string(*client), std::string(*scopes)};
    DEVFLOW_FUZZ_CHECK((first.status == d::record_status::ok) == (found == expected));

    // Save and load again: the same tokens, the same endpoints, the same status.
    const std::string written = json.write(d::record_to_json(found, first.tokens, first.endpoints));
    const auto reread_doc = json.parse(written);
    DEVFLOW_FUZZ_CHECK(reread_doc.has_value());
    const auto second = d::record_from_json(*reread_doc, expected);
    DEVFLOW_FUZZ_CHECK(second.status == first.status);
    DEVFLOW_FUZZ_CHECK(self::same_tokens(first.tokens, second.tokens));
    DEVFLOW_FUZZ_CHECK(self::same_endpoints(first.endpoints, second.endpoints));
    return 0;
}
