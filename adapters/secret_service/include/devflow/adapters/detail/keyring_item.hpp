// devflow::secret_service — what a keyring item shows of its record: its lookup
// attribute, the non-secret attributes a keyring app can show and search
// (issuer, client, scopes) and a label a user recognises
// (docs/adapters/secret_service.md). Pure; tested in
// tests/unit/keyring_item_test.cpp.
//
// A store key is opaque bytes to a token store. The keys device_flow uses
// (detail::store_key in detail/record.hpp) are "<issuer>\n<client_id>\n<scopes>":
// nothing secret, so they are shown. Any other key is shown by its digest only.
// Everything shown is valid UTF-8 (D-Bus strings must be) with no control
// characters (a keyring app draws them as they are).
#pragma once

#include <devflow/detail/sha256.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The attributes and label of the keyring item for one store key.
struct keyring_item_fields {
    /// The lookup attribute: 32 hex digits of SHA-256(key), or of
    /// SHA-256(partition NUL key) when the store has a partition (a key may
    /// hold any bytes; a D-Bus string may not). Without a partition it is the
    /// name file_store gives the record's file.
    std::string key_digest;
    /// The store's partition when it is displayable ("" otherwise): shown,
    /// never looked up (the digest already tells partitions apart).
    std::string partition;
    std::string issuer;     ///< "" when the key is not device_flow's
    std::string client_id;  ///< "" when the key is not device_flow's
    std::string scopes;     ///< "" when the key is not device_flow's (or it has none)
    bool described = false;  ///< true when issuer, client_id and scopes come from the key
    /// "devflow: <client> at <issuer>", or "devflow: token record <digest>".
    std::string label;
};

/// True when `text` is valid UTF-8 (no overlong forms, no surrogates, at most
/// U+10FFFF) and holds no control character (C0, DEL or C1).
[[nodiscard]] inline bool is_displayable_utf8(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return false;
            ++i;
            continue;
        }
        std::size_t extra = 0;
        char32_t cp = 0;
        if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1fu;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0fu;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + extra >= text.size()) return false;  // cut short
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto d = static_cast<unsigned char>(text[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3fu);
        }
        constexpr char32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        if (cp >= 0x80 && cp <= 0x9f) return false;  // C1 controls
        i += extra + 1;
    }
    return true;
}

/// The fields of the keyring item for `key` in `partition` (see the file
/// comment and secret_service_store::options::partition).
[[nodiscard]] inline keyring_item_fields keyring_item_for(std::string_view key,
                                                          std::string_view partition = {}) {
    keyring_item_fields out;
    if (partition.empty()) {
        out.key_digest = sha256_hex(key).substr(0, 32);
    } else {
        std::string tagged;
        tagged.reserve(partition.size() + 1 + key.size());  // one allocation: no stray copy
        tagged.append(partition).push_back('\0');
        tagged.append(key);
        out.key_digest = sha256_hex(tagged).substr(0, 32);
        if (is_displayable_utf8(partition)) out.partition = std::string(partition);
    }
    const std::size_t first = key.find('\n');
    const std::size_t second = first == std::string_view::npos ? first : key.find('\n', first + 1);
    if (second != std::string_view::npos && key.find('\n', second + 1) == std::string_view::npos) {
        const std::string_view issuer = key.substr(0, first);
        const std::string_view client = key.substr(first + 1, second - first - 1);
        const std::string_view scopes = key.substr(second + 1);
        if (!issuer.empty() && !client.empty() && is_displayable_utf8(issuer) &&
            is_displayable_utf8(client) && is_displayable_utf8(scopes)) {
            out.issuer = std::string(issuer);
            out.client_id = std::string(client);
            out.scopes = std::string(scopes);
            out.described = true;
            out.label = "devflow: " + out.client_id + " at " + out.issuer;
            return out;
        }
    }
    out.label = "devflow: token record " + out.key_digest;
    return out;
}

}  // namespace devflow::detail
