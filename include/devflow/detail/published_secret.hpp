// devflow — a secret that one writer at a time publishes and any number of
// readers copy without taking a lock: the hot path of authorization_header()
// (docs/performance.md). Tested in tests/unit/published_secret_test.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace devflow::detail {

/// A text and the wall time until which it may be served, behind a sequence
/// lock (H.-J. Boehm, "Can seqlocks get along with programming language
/// memory models?", MSPC 2012). A reader writes no shared memory: it reads
/// the sequence number, copies, and reads it again, retrying when a write
/// happened in between; it never waits on a lock a descheduled thread holds.
///
/// Writers must exclude each other (the owner holds a mutex around publish()
/// and clear()). The text is kept in words of std::atomic<std::uint64_t>, so
/// that a reader racing a writer reads defined, if torn, values, which the
/// second sequence read then throws away. A buffer that a longer text
/// outgrows is wiped at once but freed only with this object, since a reader
/// may still be copying from it; capacities double, so the buffers of one
/// object add up to less than four times its longest text.
class published_secret {
public:
    using time_point = std::chrono::system_clock::time_point;

    published_secret() = default;
    published_secret(const published_secret&) = delete;
    published_secret& operator=(const published_secret&) = delete;
    ~published_secret() {
        for (auto& b : buffers_) wipe_words(*b, 0, b->words);
    }

    /// Publishes `text`, served while the reader's `now` is before `until`.
    /// Not concurrent with another publish() or clear().
    void publish(std::string_view text, time_point until) {
        const std::size_t need = (text.size() + 7) / 8;
        buffer* old = current_;
        if (!current_ || need > current_->words) {
            const std::size_t grown = current_ ? current_->words * 2 : 8;
            buffers_.push_back(std::make_unique<buffer>(need > grown ? need : grown));
            current_ = buffers_.back().get();
        }
        const std::size_t old_need = old ? size_words_ : 0;
        begin_write();
        for (std::size_t i = 0; i < need; ++i) {
            std::uint64_t w = 0;
            const std::size_t n = text.size() - i * 8 < 8 ? text.size() - i * 8 : 8;
            std::memcpy(&w, text.data() + i * 8, n);
            current_->data[i].store(w, std::memory_order_relaxed);
        }
        // What a shorter text leaves of the last one in the same buffer.
        if (old == current_ && old_need > need) wipe_words(*current_, need, old_need);
        // Release: a reader that sees this buffer sees it built.
        data_.store(current_, std::memory_order_release);
        size_.store(text.size(), std::memory_order_relaxed);
        until_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
        end_write();
        size_words_ = need;
        // A reader still copying the outgrown buffer fails its sequence check.
        if (old && old != current_) wipe_words(*old, 0, old->words);
    }

    /// Withdraws the text and wipes it; readers get nothing until the next
    /// publish(). Not concurrent with publish().
    void clear() noexcept {
        begin_write();
        size_.store(0, std::memory_order_relaxed);
        until_.store(time_point::min().time_since_epoch().count(), std::memory_order_relaxed);
        if (current_) wipe_words(*current_, 0, size_words_);
        end_write();
        size_words_ = 0;
    }

    /// Copies the text into `out` and returns true when one is published and
    /// `now` is before its deadline; returns false otherwise (`out` is then
    /// unspecified). Safe from any number of threads, concurrently with a
    /// writer.
    bool copy_if_fresh(time_point now, std::string& out) const {
        for (int attempt = 0;; ++attempt) {
            const std::uint64_t before = sequence_.load(std::memory_order_acquire);
            if (before % 2 == 0) {
                const buffer* words = data_.load(std::memory_order_acquire);
                const std::size_t size = size_.load(std::memory_order_relaxed);
                const auto until = until_.load(std::memory_order_relaxed);
                bool fresh = size > 0 && words && size <= words->words * 8 &&
                             now.time_since_epoch().count() < until;
                if (fresh) {
                    out.resize(size);
                    for (std::size_t i = 0; i * 8 < size; ++i) {
                        const std::uint64_t w = words->data[i].load(std::memory_order_relaxed);
                        std::memcpy(out.data() + i * 8, &w, size - i * 8 < 8 ? size - i * 8 : 8);
                    }
                }
                std::atomic_thread_fence(std::memory_order_acquire);
                if (sequence_.load(std::memory_order_relaxed) == before) return fresh;
            }
            // A write is in progress: it is short (no I/O inside), so spin a
            // little, then let the writer run.
            if (attempt >= 16) std::this_thread::yield();
        }
    }

private:
    struct buffer {
        explicit buffer(std::size_t n) : words(n), data(new std::atomic<std::uint64_t>[n]) {
            for (std::size_t i = 0; i < n; ++i) data[i].store(0, std::memory_order_relaxed);
        }
        const std::size_t words;
        const std::unique_ptr<std::atomic<std::uint64_t>[]> data;
    };

    static void wipe_words(buffer& b, std::size_t from, std::size_t to) noexcept {
        // Atomic stores are never elided as dead, unlike a plain memset.
        for (std::size_t i = from; i < to; ++i) b.data[i].store(0, std::memory_order_relaxed);
    }

    void begin_write() noexcept {
        sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
    }
    void end_write() noexcept {
        sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    std::atomic<std::uint64_t> sequence_{0};  // odd while a write is in progress
    std::atomic<const buffer*> data_{nullptr};
    std::atomic<std::size_t> size_{0};
    std::atomic<time_point::rep> until_{time_point::min().time_since_epoch().count()};
    // The writer's own state (writers exclude each other).
    std::vector<std::unique_ptr<buffer>> buffers_;
    buffer* current_ = nullptr;
    std::size_t size_words_ = 0;
};

}  // namespace devflow::detail
