// devflow — a small SHA-256 (FIPS 180-4), used to turn a token store key into
// a file name. Not used for anything secret: the key is issuer + client_id +
// scopes, and the hash only keeps file names short and free of odd bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace devflow::detail {

/// Incremental SHA-256 (FIPS 180-4 §6.2): update() any number of times, then finish().
class sha256 {
public:
    /// The 32-byte digest.
    using digest = std::array<unsigned char, 32>;

    /// Feeds more message bytes.
    void update(std::string_view bytes) noexcept {
        for (const char c : bytes) {
            block_[used_++] = static_cast<unsigned char>(c);
            if (used_ == block_.size()) {
                compress();
                used_ = 0;
            }
        }
        length_ += static_cast<std::uint64_t>(bytes.size());
    }

    /// Pads the message (FIPS 180-4 §5.1.1) and returns its digest; the object
    /// must not be used afterwards.
    [[nodiscard]] digest finish() noexcept {
        const std::uint64_t bit_length = length_ * 8U;
        block_[used_++] = 0x80;
        if (used_ > 56) {
            while (used_ < 64) block_[used_++] = 0;
            compress();
            used_ = 0;
        }
        while (used_ < 56) block_[used_++] = 0;
        for (int i = 7; i >= 0; --i)
            block_[used_++] = static_cast<unsigned char>(bit_length >> (8 * i));
        compress();
        digest out{};
        for (std::size_t i = 0; i < 8; ++i) {
            out[4 * i + 0] = static_cast<unsigned char>(state_[i] >> 24);
            out[4 * i + 1] = static_cast<unsigned char>(state_[i] >> 16);
            out[4 * i + 2] = static_cast<unsigned char>(state_[i] >> 8);
            out[4 * i + 3] = static_cast<unsigned char>(state_[i]);
        }
        return out;
    }

private:
    static constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept {
        return (x >> n) | (x << (32 - n));
    }

    // FIPS 180-4 §6.2.2: the compression function on one 512-bit block.
    void compress() noexcept {
        static constexpr std::array<std::uint32_t, 64> k = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2};
        std::array<std::uint32_t, 64> w{};
        for (std::size_t t = 0; t < 16; ++t)
            w[t] = (std::uint32_t{block_[4 * t]} << 24) | (std::uint32_t{block_[4 * t + 1]} << 16) |
                   (std::uint32_t{block_[4 * t + 2]} << 8) | std::uint32_t{block_[4 * t + 3]};
        for (std::size_t t = 16; t < 64; ++t) {
            const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
        std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
        for (std::size_t t = 0; t < 64; ++t) {
            const std::uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            const std::uint32_t ch = (e & f) ^ (~e & g);
            const std::uint32_t t1 = h + big_s1 + ch + k[t] + w[t];
            const std::uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            const std::uint32_t t2 = big_s0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state_[0] += a;
        state_[1] += b;
        state_[2] += c;
        state_[3] += d;
        state_[4] += e;
        state_[5] += f;
        state_[6] += g;
        state_[7] += h;
    }

    // FIPS 180-4 §5.3.3: the initial hash value.
    std::array<std::uint32_t, 8> state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> block_{};
    std::size_t used_ = 0;
    std::uint64_t length_ = 0;
};

/// The SHA-256 digest of `bytes` as 64 lower-case hex digits.
[[nodiscard]] inline std::string sha256_hex(std::string_view bytes) {
    sha256 hash;
    hash.update(bytes);
    const sha256::digest d = hash.finish();
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * d.size());
    for (const unsigned char byte : d) {
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0x0f]);
    }
    return out;
}

}  // namespace devflow::detail
