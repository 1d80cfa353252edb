// Fuzz target: application/x-www-form-urlencoded bodies (the requests devflow
// sends and the fake server decodes) and Basic credentials (RFC 6749 §2.3.1,
// Appendix B; RFC 4648 §4).
// Invariants: decoding never fails; encoding any decoded fields and decoding
// again gives them back exactly; an encoded component holds only the safe
// alphabet; base64 has the length and alphabet RFC 4648 gives it.
#include "../fuzz_support.hpp"

#include <devflow/detail/form.hpp>

namespace devflow_fuzz::form_target {

inline bool form_safe(std::string_view s) {
    for (unsigned char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_' || c == '~' || c == '*' || c == '+' ||
                        c == '%';
        if (!ok) return false;
    }
    return true;
}

inline bool base64_shaped(std::string_view s, std::size_t input_size) {
    if (s.size() != (input_size + 2) / 3 * 4) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!alpha && !(c == '=' && i + 2 >= s.size())) return false;
    }
    return true;
}

}  // namespace devflow_fuzz::form_target

DEVFLOW_FUZZ_TARGET(form) {
    namespace self = devflow_fuzz::form_target;
    namespace d = devflow::detail;
    const std::string_view text = devflow_fuzz::as_text(data, size);
    const auto fields = d::form_decode(text);
    DEVFLOW_FUZZ_CHECK(fields.size() <= text.size());

    std::vector<d::form_field> refs;
    for (const auto& [name, value] : fields) refs.push_back({name, value});
    const devflow::secret encoded = d::form_encode(refs);
    const auto again = d::form_decode(encoded.reveal());
    // An empty name with an empty value ("=" or "") encodes to "=", which decodes
    // to the same pair; fields are never lost, reordered or altered.
    DEVFLOW_FUZZ_CHECK(again == fields);
    for (const auto& [name, value] : fields) {
        DEVFLOW_FUZZ_CHECK(self::form_safe(d::form_escape(name)));
        DEVFLOW_FUZZ_CHECK(d::form_unescape(d::form_escape(value)) == value);
    }
    DEVFLOW_FUZZ_CHECK(self::base64_shaped(d::base64_encode(text), text.size()));

    // client_secret_basic from the first field (id) and the rest (secret).
    const std::string_view id = fields.empty() ? std::string_view{} : std::string_view(fields[0].first);
    const devflow::secret credentials = d::basic_authorization(id, devflow::secret{std::string(text)});
    DEVFLOW_FUZZ_CHECK(credentials.reveal().compare(0, 6, "Basic ") == 0);
    return 0;
}
