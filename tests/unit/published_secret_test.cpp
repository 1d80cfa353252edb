// detail::published_secret: the read side of authorization_header()
// (docs/performance.md). Single-threaded rules, then readers racing a writer.
#include "catch.hpp"

#include <devflow/detail/published_secret.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using devflow::detail::published_secret;
using namespace std::chrono_literals;

namespace {
const published_secret::time_point t0{std::chrono::hours{24 * 365 * 50}};

/// What copy_if_fresh gives at `now`: the text, or "" when it gives nothing
/// (then it must not have touched the string).
std::string read(const published_secret& p, published_secret::time_point now) {
    std::string out;
    if (!p.copy_if_fresh(now, out)) return out.empty() ? std::string{} : std::string{"touched"};
    return out;
}
}  // namespace

TEST_CASE("published_secret serves nothing before the first publish", "[published_secret]") {
    const published_secret p;
    CHECK(read(p, t0).empty());
}

TEST_CASE("published_secret serves the text before its deadline and not at or after it",
          "[published_secret]") {
    published_secret p;
    p.publish(devflow::secret{"Bearer abc"}, t0 + 10s);
    CHECK(read(p, t0) == "Bearer abc");
    CHECK(read(p, t0 + 10s - 1ns) == "Bearer abc");
    CHECK(read(p, t0 + 10s).empty());
    CHECK(read(p, t0 + 11s).empty());
}

TEST_CASE("published_secret serves each new text exactly as it grows and shrinks",
          "[published_secret]") {
    published_secret p;
    // Lengths on and off word boundaries and past the first buffer (64 bytes).
    for (std::size_t n : {1u, 7u, 8u, 9u, 63u, 64u, 65u, 1200u, 47u, 0u, 3u, 4096u, 16u}) {
        const std::string text(n, static_cast<char>('a' + n % 26));
        p.publish(devflow::secret{text}, t0 + 1s);
        CHECK(read(p, t0) == text);  // empty for the empty text
    }
}

TEST_CASE("published_secret serves nothing after clear until the next publish",
          "[published_secret]") {
    published_secret p;
    p.publish(devflow::secret{"Bearer abc"}, published_secret::time_point::max());
    p.clear();
    CHECK(read(p, t0).empty());
    p.publish(devflow::secret{"Bearer def"}, published_secret::time_point::max());
    CHECK(read(p, t0) == "Bearer def");
}

TEST_CASE("published_secret readers racing a writer only ever copy a whole published text",
          "[published_secret]") {
    // Texts of different lengths and contents, so a torn copy (the start of
    // one and the end of another, or the wrong length) cannot pass for one.
    const std::vector<std::string> texts{std::string(47, 'a'), std::string(1200, 'b'),
                                         std::string(5, 'c'), std::string(300, 'd')};
    published_secret p;
    std::atomic<bool> done{false};
    std::atomic<long> served{0};
    std::atomic<long> torn{0};
    std::vector<std::jthread> readers;
    for (int r = 0; r < 3; ++r)
        readers.emplace_back([&] {
            while (!done.load()) {
                const std::string out = read(p, t0);
                if (out.empty()) continue;
                served.fetch_add(1);
                bool whole = false;
                for (const auto& t : texts) whole = whole || out == t;
                if (!whole) torn.fetch_add(1);
            }
        });
    for (int i = 0; i < 20000; ++i) {
        if (i % 7 == 6)
            p.clear();
        else
            p.publish(devflow::secret{texts[static_cast<std::size_t>(i) % texts.size()]}, t0 + 1s);
        if (i % 64 == 0) std::this_thread::yield();
    }
    p.publish(devflow::secret{texts[0]}, t0 + 1s);
    // Let every reader copy the last text at least once.
    const long before = served.load();
    while (served.load() < before + 3) std::this_thread::yield();
    done = true;
    readers.clear();
    CHECK(torn.load() == 0);
    CHECK(served.load() > 0);
}
