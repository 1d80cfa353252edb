// devflow — secret: a string that holds a credential.
//
// Tokens, device codes, client secrets and request/response bodies that may
// carry them are held in a devflow::secret. It has no stream operator and no
// implicit conversion; the only way to read it is the explicit reveal(). Its
// memory is overwritten when it is destroyed, moved from or reassigned.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace devflow {

namespace detail {

/// Overwrites a string's whole buffer (capacity, not just size) through a
/// volatile pointer so the stores are not optimised away, then empties it.
inline void wipe(std::string& s) noexcept {
    volatile char* p = s.data();
    const std::size_t n = s.capacity();
    for (std::size_t i = 0; i < n; ++i) p[i] = '\0';
    s.clear();
}

}  // namespace detail

/// A credential held as text that is never printed and is wiped on destruction.
class secret {
public:
    /// An empty secret.
    secret() noexcept = default;

    /// Takes ownership of `value` (its buffer moves in; nothing is copied).
    explicit secret(std::string value) noexcept : value_(std::move(value)) {}

    /// Copies `value` into a new secret.
    explicit secret(std::string_view value) : value_(value) {}

    /// Copies `value` into a new secret.
    explicit secret(const char* value) : value_(value) {}

    secret(const secret& other) : value_(other.value_) {}

    secret(secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }

    secret& operator=(const secret& other) {
        if (this != &other) {
            wipe();
            value_ = other.value_;
        }
        return *this;
    }

    secret& operator=(secret&& other) noexcept {
        if (this != &other) {
            wipe();
            value_ = std::move(other.value_);
            other.wipe();
        }
        return *this;
    }

    ~secret() { wipe(); }

    /// The credential itself. Call only where it must leave the program
    /// (an HTTP request, the token store, an explicit user request).
    [[nodiscard]] const std::string& reveal() const noexcept { return value_; }

    /// True when no credential is held.
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    /// Number of bytes held.
    [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }

    /// Overwrites and releases the held bytes.
    void clear() noexcept { wipe(); }

    /// Compares in time independent of where the first difference is.
    friend bool operator==(const secret& a, const secret& b) noexcept {
        const std::string& x = a.value_;
        const std::string& y = b.value_;
        unsigned char diff = static_cast<unsigned char>(x.size() != y.size());
        const std::size_t n = x.size() < y.size() ? x.size() : y.size();
        for (std::size_t i = 0; i < n; ++i)
            diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(x[i]) ^
                                                      static_cast<unsigned char>(y[i])));
        return diff == 0;
    }

private:
    void wipe() noexcept { detail::wipe(value_); }

    std::string value_;
};

}  // namespace devflow
