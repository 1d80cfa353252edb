// devflow — the text format of a sealed record (sealed_store): pure framing,
// no cryptography. Tested in tests/stores/sealed_store_test.cpp.
//
//   devflow-sealed-v1.<base64(nonce[12] || ciphertext || tag[16])>
//
// The prefix names the format version; the associated data the cipher
// authenticates is the prefix, a NUL byte and the store key, so a record
// opens only under the key it was saved under, in the format it claims.
#pragma once

#include <devflow/detail/base64.hpp>
#include <devflow/secret.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace devflow::detail::sealed {

/// The prefix of a version-1 sealed record.
inline constexpr std::string_view prefix_v1 = "devflow-sealed-v1.";
/// The prefix every sealed record starts with, whatever its version.
inline constexpr std::string_view family_prefix = "devflow-sealed-v";
/// AES-GCM nonce length: 96 bits (NIST SP 800-38D §8.2.2, random nonces).
inline constexpr std::size_t nonce_size = 12;
/// AES-GCM tag length: 128 bits.
inline constexpr std::size_t tag_size = 16;
/// AES-256 key length.
inline constexpr std::size_t key_size = 32;

/// The associated data bound to a record saved under `store_key`.
inline std::string associated_data(std::string_view store_key) {
    std::string out;
    out.reserve(prefix_v1.size() + 1 + store_key.size());
    out.append(prefix_v1).push_back('\0');
    out.append(store_key);
    return out;
}

/// The record text for `sealed` (nonce || ciphertext || tag).
inline std::string frame(std::string_view sealed) {
    const std::string body = base64_encode(sealed);
    std::string out;
    out.reserve(prefix_v1.size() + body.size());
    out.append(prefix_v1).append(body);
    return out;
}

/// How a record text reads before it is opened.
enum class frame_status {
    ok,          ///< a version-1 record; `bytes` holds nonce || ciphertext || tag
    not_sealed,  ///< no sealed-record prefix at all
    newer,       ///< a sealed record of another (later) format version
    malformed,   ///< the prefix is right but the rest is not base64 or too short
};

/// The result of unframe().
struct unframed {
    frame_status status = frame_status::malformed;
    std::string bytes;  ///< nonce || ciphertext || tag, when ok
};

/// Reads a record text: its version and its sealed bytes.
inline unframed unframe(std::string_view text) {
    unframed out;
    if (text.substr(0, prefix_v1.size()) != prefix_v1) {
        out.status = text.substr(0, family_prefix.size()) == family_prefix ? frame_status::newer
                                                                          : frame_status::not_sealed;
        return out;
    }
    std::optional<std::string> bytes = base64_decode(text.substr(prefix_v1.size()));
    if (!bytes || bytes->size() < nonce_size + tag_size) return out;  // malformed
    out.status = frame_status::ok;
    out.bytes = std::move(*bytes);
    return out;
}

/// Reads the contents of a key file: 32 raw bytes, or 64 hex digits with
/// an optional final newline. std::nullopt for anything else.
/// Nothing of a refused file is kept.
inline std::optional<secret> parse_key_file(std::string_view contents) {
    if (contents.size() == key_size) return secret(contents);
    std::string_view hex = contents;
    if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
    if (!hex.empty() && hex.back() == '\r') hex.remove_suffix(1);
    if (hex.size() != 2 * key_size) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string key;
    key.reserve(key_size);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = nibble(hex[i]);
        const int lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            wipe(key);
            return std::nullopt;
        }
        key.push_back(static_cast<char>(hi * 16 + lo));
    }
    return secret(std::move(key));
}

}  // namespace devflow::detail::sealed
