// devflow — an allocator that overwrites memory before giving it back, for
// the containers of third-party libraries that hold tokens (nlohmann/json's
// strings, Boost.Beast's bodies and buffers): with it, their reallocations
// and frees leave no copy in freed heap (docs/security.md S10).
#pragma once

#include <cstddef>
#include <memory>

namespace devflow::detail {

/// A std::allocator that zeroes each block before it frees it.
template <class T>
struct wiping_allocator {
    using value_type = T;

    wiping_allocator() noexcept = default;
    template <class U>
    wiping_allocator(const wiping_allocator<U>&) noexcept {}  // implicit, as rebinding needs

    /// Allocates room for `n` objects of type T.
    [[nodiscard]] T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }

    /// Zeroes the block, then frees it.
    void deallocate(T* p, std::size_t n) noexcept {
        volatile unsigned char* bytes = reinterpret_cast<volatile unsigned char*>(p);
        for (std::size_t i = 0; i < n * sizeof(T); ++i) bytes[i] = 0;
        std::allocator<T>{}.deallocate(p, n);
    }

    template <class U>
    friend bool operator==(const wiping_allocator&, const wiping_allocator<U>&) noexcept {
        return true;
    }
};

}  // namespace devflow::detail
