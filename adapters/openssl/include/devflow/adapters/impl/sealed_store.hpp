// devflow — sealed_store's definitions (include <devflow/adapters/sealed_store.hpp>,
// which declares and documents them, not this).
#pragma once

#include <devflow/adapters/detail/sealed_format.hpp>
#include <devflow/adapters/sealed_store.hpp>
#include <devflow/file_store.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>
#include <string>

namespace devflow {

namespace detail::sealed {

/// Owns an EVP_CIPHER_CTX (freed, and so cleansed, on destruction).
struct cipher_context {
    struct free_context {
        void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
    };
    std::unique_ptr<EVP_CIPHER_CTX, free_context> ctx{EVP_CIPHER_CTX_new()};
};

/// Seals `plain` under `key` with a fresh random nonce, binding `aad`:
/// returns nonce || ciphertext || tag, or std::nullopt when OpenSSL fails.
inline std::optional<std::string> seal(const secret& key, std::string_view plain, std::string_view aad) {
    if (plain.size() > static_cast<std::size_t>(INT_MAX) - 64 || aad.size() > static_cast<std::size_t>(INT_MAX))
        return std::nullopt;
    std::string out(nonce_size + plain.size() + tag_size, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    if (RAND_bytes(bytes, static_cast<int>(nonce_size)) != 1) return std::nullopt;
    cipher_context c;
    int len = 0;
    int total = 0;
    const bool ok =
        c.ctx && EVP_EncryptInit_ex(c.ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr) == 1 &&
        EVP_EncryptInit_ex(c.ctx.get(), nullptr, nullptr,
                           reinterpret_cast<const unsigned char*>(key.reveal().data()), bytes) == 1 &&
        EVP_EncryptUpdate(c.ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_EncryptUpdate(c.ctx.get(), bytes + nonce_size, &len,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) == 1 &&
        (total = len, EVP_EncryptFinal_ex(c.ctx.get(), bytes + nonce_size + total, &len) == 1) &&
        static_cast<std::size_t>(total + len) == plain.size() &&
        EVP_CIPHER_CTX_ctrl(c.ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                            bytes + nonce_size + plain.size()) == 1;
    if (!ok) return std::nullopt;
    return out;
}

/// Opens nonce || ciphertext || tag under `key` and `aad`: the plaintext in a
/// secret, or std::nullopt when it does not authenticate (wrong key, changed
/// bytes, other associated data). Nothing unauthenticated is returned.
inline std::optional<secret> open(const secret& key, std::string_view sealed, std::string_view aad) {
    if (sealed.size() < nonce_size + tag_size || sealed.size() > static_cast<std::size_t>(INT_MAX) ||
        aad.size() > static_cast<std::size_t>(INT_MAX))
        return std::nullopt;
    const std::size_t text_size = sealed.size() - nonce_size - tag_size;
    const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
    std::string plain(text_size, '\0');
    secret held(std::move(plain));  // wiped however this ends
    auto* out = reinterpret_cast<unsigned char*>(const_cast<char*>(held.reveal().data()));
    unsigned char tag[tag_size];
    for (std::size_t i = 0; i < tag_size; ++i) tag[i] = in[nonce_size + text_size + i];
    cipher_context c;
    int len = 0;
    int total = 0;
    const bool ok =
        c.ctx && EVP_DecryptInit_ex(c.ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(c.ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr) == 1 &&
        EVP_DecryptInit_ex(c.ctx.get(), nullptr, nullptr,
                           reinterpret_cast<const unsigned char*>(key.reveal().data()), in) == 1 &&
        EVP_DecryptUpdate(c.ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_DecryptUpdate(c.ctx.get(), out, &len, in + nonce_size, static_cast<int>(text_size)) == 1 &&
        (total = len,
         EVP_CIPHER_CTX_ctrl(c.ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag) == 1) &&
        EVP_DecryptFinal_ex(c.ctx.get(), out + total, &len) == 1 &&
        static_cast<std::size_t>(total + len) == text_size;
    OPENSSL_cleanse(tag, sizeof tag);
    if (!ok) return std::nullopt;  // `held` (unauthenticated bytes) is wiped here
    return held;
}

}  // namespace detail::sealed

template <token_store Store>
sealed_store<Store>::sealed_store(Store inner, secret key) : inner_(std::move(inner)), key_(std::move(key)) {
    if (key_.size() != key_size)
        detail::throw_error(errc::invalid_config, "devflow sealed_store: the sealing key must be exactly " +
                                                      std::to_string(key_size) + " bytes, not " +
                                                      std::to_string(key_.size()));
}

template <token_store Store>
secret sealed_store<Store>::read_key_file(const std::filesystem::path& file) {
    const private_file found = read_private_file(file, 4096);
    switch (found.result) {
        case private_file::outcome::absent:
            detail::throw_error(errc::invalid_config,
                                "devflow sealed_store: there is no sealing key file " + file.string());
        case private_file::outcome::refused:
            detail::throw_error(errc::invalid_config, "devflow sealed_store: the sealing key file " +
                                                          file.string() + " " + found.reason +
                                                          "; it is not used");
        case private_file::outcome::ok: break;
    }
    std::optional<secret> key = detail::sealed::parse_key_file(found.bytes.reveal());
    if (!key)
        detail::throw_error(errc::invalid_config,
                            "devflow sealed_store: the sealing key file " + file.string() +
                                " holds no key (it must hold 32 bytes, or 64 hex digits and a newline)");
    return std::move(*key);
}

template <token_store Store>
std::optional<secret> sealed_store<Store>::load(std::string_view key) {
    std::optional<secret> stored = inner_.load(key);
    if (!stored) return std::nullopt;
    namespace sealed = detail::sealed;
    const sealed::unframed framed = sealed::unframe(stored->reveal());
    switch (framed.status) {
        case sealed::frame_status::not_sealed:
            detail::throw_error(errc::unseal_failed,
                                "devflow sealed_store: the stored record is not sealed (written without a "
                                "sealing key, or replaced); it is not used");
        case sealed::frame_status::newer:
            detail::throw_error(errc::unseal_failed,
                                "devflow sealed_store: the stored record is sealed in a newer format than "
                                "this devflow reads");
        case sealed::frame_status::malformed:
            detail::throw_error(errc::unseal_failed,
                                "devflow sealed_store: the stored sealed record is cut short or damaged");
        case sealed::frame_status::ok: break;
    }
    std::optional<secret> plain = sealed::open(key_, framed.bytes, sealed::associated_data(key));
    if (!plain)
        detail::throw_error(errc::unseal_failed,
                            "devflow sealed_store: the stored record does not open with this key (a wrong "
                            "key, a changed byte, or a record moved from another store key)");
    return plain;
}

template <token_store Store>
void sealed_store<Store>::save(std::string_view key, const secret& record) {
    std::optional<std::string> sealed_bytes =
        detail::sealed::seal(key_, record.reveal(), detail::sealed::associated_data(key));
    if (!sealed_bytes)
        detail::throw_error(errc::storage_failed,
                            "devflow sealed_store: OpenSSL could not seal the record (no random nonce or "
                            "no AES-256-GCM)");
    inner_.save(key, secret(detail::sealed::frame(*sealed_bytes)));
}

}  // namespace devflow
