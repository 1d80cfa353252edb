// secret.hpp: a credential that is never printed, only revealed on purpose,
// and wiped when it goes away (docs/design.md §3).
#include <devflow/secret.hpp>

#include "canary.hpp"
#include "catch.hpp"

#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

using devflow::secret;

namespace {

template <class T>
concept streamable = requires(std::ostream& os, const T& value) { os << value; };

}  // namespace

// The checks below are not vacuous: they hold for ordinary strings.
static_assert(streamable<std::string>);
static_assert(std::is_convertible_v<std::string, std::string_view>);

// No stream operator: a secret cannot end up in a log line by accident.
static_assert(!streamable<secret>, "devflow::secret must have no operator<<");
// No implicit (or explicit) conversion to text: reveal() is the only way out.
static_assert(!std::is_convertible_v<secret, std::string>);
static_assert(!std::is_convertible_v<secret, std::string_view>);
static_assert(!std::is_convertible_v<secret, const char*>);
static_assert(!std::is_convertible_v<secret, bool>);
static_assert(!std::is_constructible_v<std::string, const secret&>);
static_assert(!std::is_constructible_v<std::string_view, const secret&>);
// And no implicit conversion from text either: making a secret is explicit.
static_assert(!std::is_convertible_v<std::string, secret>);
static_assert(!std::is_convertible_v<std::string_view, secret>);
static_assert(!std::is_convertible_v<const char*, secret>);
static_assert(std::is_constructible_v<secret, std::string>);
static_assert(std::is_nothrow_move_constructible_v<secret>);
static_assert(std::is_nothrow_move_assignable_v<secret>);

TEST_CASE("a secret reveals exactly what it was given", "[secret]") {
    const secret from_literal{"CANARY-literal"};
    CHECK(from_literal.reveal() == "CANARY-literal");
    CHECK(from_literal.size() == 14);
    CHECK_FALSE(from_literal.empty());

    const std::string_view view = "CANARY-view-and-more";
    const secret from_view{view.substr(0, 11)};
    CHECK(from_view.reveal() == "CANARY-view");

    std::string owned = "CANARY-owned-long-enough-to-live-on-the-heap";
    const secret from_string{std::move(owned)};
    CHECK(from_string.reveal() == "CANARY-owned-long-enough-to-live-on-the-heap");

    const std::string with_nul("CANARY\0tail", 11);
    CHECK(secret{std::string_view{with_nul}}.reveal() == with_nul);
}

TEST_CASE("a default secret is empty", "[secret]") {
    const secret s;
    CHECK(s.empty());
    CHECK(s.size() == 0);
    CHECK(s.reveal().empty());
    CHECK(secret{""}.empty());
}

TEST_CASE("moving a secret leaves the source empty", "[secret]") {
    secret a{"CANARY-move-source-long-enough-for-the-heap"};
    secret b{std::move(a)};
    CHECK(b.reveal() == "CANARY-move-source-long-enough-for-the-heap");
    CHECK(a.empty());  // a moved-from secret is empty, by contract

    secret c{"CANARY-short"};
    c = std::move(b);
    CHECK(c.reveal() == "CANARY-move-source-long-enough-for-the-heap");
    CHECK(b.empty());

    secret small{"CANARY-sso"};
    secret target;
    target = std::move(small);
    CHECK(target.reveal() == "CANARY-sso");
    CHECK(small.empty());
}

TEST_CASE("copying a secret gives an independent equal secret", "[secret]") {
    secret a{"CANARY-copy"};
    secret b{a};
    CHECK(b.reveal() == "CANARY-copy");
    CHECK(a.reveal() == "CANARY-copy");
    a.clear();
    CHECK(a.empty());
    CHECK(b.reveal() == "CANARY-copy");

    secret c{"CANARY-other-value"};
    c = b;
    CHECK(c.reveal() == "CANARY-copy");
    b.clear();
    CHECK(c.reveal() == "CANARY-copy");

    // Assigning a secret to itself keeps it.
    secret& alias = c;
    c = alias;
    CHECK(c.reveal() == "CANARY-copy");
}

TEST_CASE("clear empties a secret", "[secret]") {
    secret s{"CANARY-clear-me"};
    s.clear();
    CHECK(s.empty());
    CHECK(s.reveal().empty());
    s.clear();
    CHECK(s.empty());
}

TEST_CASE("secrets compare equal only when every byte and the length match", "[secret]") {
    CHECK(secret{"CANARY-a"} == secret{"CANARY-a"});
    CHECK(secret{} == secret{});
    CHECK(secret{} == secret{""});
    CHECK_FALSE(secret{"CANARY-a"} == secret{"CANARY-b"});
    CHECK_FALSE(secret{"XANARY-a"} == secret{"CANARY-a"});
    CHECK(secret{"CANARY-a"} != secret{"CANARY-b"});
    // Different lengths, including one a prefix of the other.
    CHECK_FALSE(secret{"CANARY"} == secret{"CANARY-longer"});
    CHECK_FALSE(secret{"CANARY-longer"} == secret{"CANARY"});
    CHECK_FALSE(secret{} == secret{"CANARY"});
    CHECK_FALSE(secret{"CANARY"} == secret{});
    // A difference that only shows in the high bit.
    CHECK_FALSE(secret{std::string_view{"CANARY\x01"}} == secret{std::string_view{"CANARY\x81"}});
}

TEST_CASE("detail::wipe zeroes the buffer before emptying the string", "[secret]") {
    std::string s = "CANARY-wipe-me-this-is-long-enough-for-the-heap";
    const std::size_t n = s.size();
    const char* buffer = s.data();
    devflow::detail::wipe(s);
    CHECK(s.empty());
    REQUIRE(s.data() == buffer);  // clear() keeps the buffer; its old bytes must be gone
    bool all_zero = true;
    for (std::size_t i = 0; i < n; ++i) all_zero = all_zero && buffer[i] == '\0';
    CHECK(all_zero);
}
