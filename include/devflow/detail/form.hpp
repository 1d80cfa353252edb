// devflow — application/x-www-form-urlencoded bodies and Basic credentials.
// Pure functions; tested in tests/unit/form_test.cpp.
#pragma once

#include <devflow/detail/base64.hpp>
#include <devflow/secret.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow::detail {

/// True for the bytes a form body carries as they are (WHATWG urlencoded).
inline bool form_unreserved(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '*';
}

/// How many bytes form_escape(in) writes: a buffer reserved to exactly this
/// never grows, so no reallocation leaves a copy of a secret behind.
inline std::size_t form_escaped_size(std::string_view in) noexcept {
    std::size_t n = 0;
    for (unsigned char c : in) n += (form_unreserved(c) || c == ' ') ? 1 : 3;
    return n;
}

/// Percent-encodes `in` for a form body: unreserved characters stay, space
/// becomes '+', everything else %XX (WHATWG / RFC 6749 Appendix B).
inline void form_escape(std::string_view in, std::string& out) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned char c : in) {
        if (form_unreserved(c)) {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
}

/// Percent-encodes `in` for a form body and returns it.
inline std::string form_escape(std::string_view in) {
    std::string out;
    out.reserve(form_escaped_size(in));
    form_escape(in, out);
    return out;
}

/// One name/value pair of a form; values may be secrets.
struct form_field {
    std::string_view name;
    std::string_view value;
};

/// Builds a form body from fields, in order. The result may hold secrets: it
/// is written into a buffer of exactly its size, so it never reallocates.
inline secret form_encode(const std::vector<form_field>& fields) {
    std::size_t size = 0;
    for (const auto& f : fields)
        size += (size == 0 ? 0 : 1) + form_escaped_size(f.name) + 1 + form_escaped_size(f.value);
    std::string out;
    out.reserve(size);
    for (const auto& f : fields) {
        if (!out.empty()) out.push_back('&');
        form_escape(f.name, out);
        out.push_back('=');
        form_escape(f.value, out);
    }
    return secret{std::move(out)};
}

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Decodes one form component ('+' is space, %XX a byte). Malformed escapes
/// are kept literally.
inline std::string form_unescape(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// Splits a form body into decoded name/value pairs, in order.
inline std::vector<std::pair<std::string, std::string>> form_decode(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> fields;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view part = body.substr(0, amp);
        if (!part.empty()) {
            const auto eq = part.find('=');
            if (eq == std::string_view::npos)
                fields.emplace_back(form_unescape(part), std::string{});
            else
                fields.emplace_back(form_unescape(part.substr(0, eq)),
                                    form_unescape(part.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        body.remove_prefix(amp + 1);
    }
    return fields;
}

/// The Authorization header value for client_secret_basic: each part is
/// form-encoded before base64 (RFC 6749 §2.3.1).
inline secret basic_authorization(std::string_view client_id, const secret& client_secret) {
    // Every buffer is sized once (no reallocation leaves a copy behind) and
    // held in a secret, so it is wiped when freed.
    std::string joined;
    joined.reserve(form_escaped_size(client_id) + 1 + form_escaped_size(client_secret.reveal()));
    form_escape(client_id, joined);
    joined.push_back(':');
    form_escape(client_secret.reveal(), joined);
    const secret wiped_joined{std::move(joined)};
    const secret encoded{base64_encode(wiped_joined.reveal())};
    std::string header;
    header.reserve(6 + encoded.size());
    header.append("Basic ").append(encoded.reveal());
    return secret{std::move(header)};
}

}  // namespace devflow::detail
