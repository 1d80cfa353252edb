// The heap watch of the leak-canary checks (docs/security.md S10, S15):
// replaces the global allocation functions so that every block freed while a
// heap_watch is alive is searched for the canary ("CANARY") first. Defines
// the replacement operator new/delete: include it in exactly one source file
// of a program, and only in a program of its own (tests/memory, tests/stores),
// since it affects the whole program. What C code frees (malloc/free, GLib's
// g_free) is not seen.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

/// The bytes searched for in freed blocks. Every token of the checks contains it.
constexpr char canary[] = "CANARY";
constexpr std::size_t canary_size = sizeof canary - 1;

std::atomic<bool> watching{false};
std::atomic<std::size_t> dirty_frees{0};
std::atomic<std::size_t> watched_frees{0};

/// Each block carries its size in a header in front of it.
constexpr std::size_t block_header = alignof(std::max_align_t);

void* allocate(std::size_t n) {
    auto* base = static_cast<unsigned char*>(std::malloc(n + block_header));
    if (base == nullptr) throw std::bad_alloc();
    std::memcpy(base, &n, sizeof n);
    return base + block_header;
}

void release(void* p) noexcept {
    if (p == nullptr) return;
    auto* base = static_cast<unsigned char*>(p) - block_header;
    if (watching.load(std::memory_order_relaxed)) {
        std::size_t n = 0;
        std::memcpy(&n, base, sizeof n);
        watched_frees.fetch_add(1, std::memory_order_relaxed);
        const auto* bytes = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i + canary_size <= n; ++i) {
            if (std::memcmp(bytes + i, canary, canary_size) == 0) {
                dirty_frees.fetch_add(1, std::memory_order_relaxed);
                break;
            }
        }
    }
    std::free(base);
}

/// Turns the watch on for one scope and reports how many freed blocks held a canary.
class heap_watch {
public:
    heap_watch() {
        dirty_frees = 0;
        watched_frees = 0;
        watching = true;
    }
    heap_watch(const heap_watch&) = delete;
    heap_watch& operator=(const heap_watch&) = delete;
    ~heap_watch() { watching = false; }

    /// Freed blocks that still held a canary, so far.
    [[nodiscard]] std::size_t dirty() const { return dirty_frees.load(); }
    /// Blocks freed while watching, so far.
    [[nodiscard]] std::size_t freed() const { return watched_frees.load(); }
};

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
