// detail/retry_after.hpp: the Retry-After header (RFC 9110 §10.2.3), as
// delay-seconds or an IMF-fixdate.
#include <devflow/detail/retry_after.hpp>

#include "catch.hpp"

#include <chrono>

using devflow::detail::days_from_civil;
using devflow::detail::parse_imf_fixdate;
using devflow::detail::parse_retry_after;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {
/// 1994-11-06 08:49:37 UTC, the example date of RFC 9110 §5.6.7.
const system_clock::time_point rfc_example{seconds{784111777}};
}  // namespace

TEST_CASE("days_from_civil counts days from the Unix epoch", "[retry_after]") {
    STATIC_REQUIRE(days_from_civil(1970, 1, 1) == 0);
    STATIC_REQUIRE(days_from_civil(1970, 1, 2) == 1);
    STATIC_REQUIRE(days_from_civil(2000, 3, 1) == 11017);
    STATIC_REQUIRE(days_from_civil(1969, 12, 31) == -1);
}

TEST_CASE("parse_imf_fixdate reads the example date of RFC 9110", "[retry_after]") {
    const auto t = parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT");
    REQUIRE(t);
    CHECK(system_clock::time_point{*t} == rfc_example);
    const auto leap = parse_imf_fixdate("Tue, 29 Feb 2000 00:00:00 GMT");
    REQUIRE(leap);
    CHECK(*leap == seconds{951782400});
}

TEST_CASE("parse_imf_fixdate refuses the obsolete formats and damaged dates", "[retry_after]") {
    CHECK_FALSE(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850
    CHECK_FALSE(parse_imf_fixdate("Sun Nov  6 08:49:37 1994"));        // asctime
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 UTC"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 +0000"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nox 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 ovD 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nov 1994 24:00:00 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nov 1994 08:60:00 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 00 Nov 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 32 Nov 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nov 19x4 08:49:37 GMT"));
    CHECK_FALSE(parse_imf_fixdate("Sun, 06 Nov 1969 08:49:37 GMT"));
    CHECK_FALSE(parse_imf_fixdate(""));
}

TEST_CASE("parse_retry_after reads delay-seconds", "[retry_after]") {
    CHECK(parse_retry_after("120", rfc_example) == seconds{120});
    CHECK(parse_retry_after("0", rfc_example) == seconds{0});
    CHECK(parse_retry_after(" 7\t", rfc_example) == seconds{7});
    CHECK(parse_retry_after("007", rfc_example) == seconds{7});
}

TEST_CASE("parse_retry_after measures an IMF-fixdate from now", "[retry_after]") {
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_example - seconds{30}) ==
          seconds{30});
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_example) == seconds{0});
    // A fraction of a second still to wait rounds up, so the client never comes back early.
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                            rfc_example - std::chrono::milliseconds{1500}) == seconds{2});
}

TEST_CASE("parse_retry_after treats a date in the past as no wait", "[retry_after]") {
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_example + seconds{3600}) ==
          seconds{0});
    CHECK(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", system_clock::now()) == seconds{0});
}

TEST_CASE("parse_retry_after gives nullopt for garbage", "[retry_after]") {
    CHECK_FALSE(parse_retry_after("", rfc_example));
    CHECK_FALSE(parse_retry_after("   ", rfc_example));
    CHECK_FALSE(parse_retry_after("soon", rfc_example));
    CHECK_FALSE(parse_retry_after("-5", rfc_example));
    CHECK_FALSE(parse_retry_after("1.5", rfc_example));
    CHECK_FALSE(parse_retry_after("12s", rfc_example));
    CHECK_FALSE(parse_retry_after("1 2", rfc_example));
    CHECK_FALSE(parse_retry_after("+5", rfc_example));
    CHECK_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", rfc_example));
}

TEST_CASE("parse_retry_after caps delay-seconds at one day", "[retry_after]") {
    CHECK(parse_retry_after("86400", rfc_example) == seconds{86400});
    CHECK(parse_retry_after("86401", rfc_example) == seconds{86400});
    // Far more digits than any integer holds: capped, not overflowed.
    CHECK(parse_retry_after("99999999999999999999999999999999", rfc_example) == seconds{86400});
}

TEST_CASE("parse_retry_after caps a far future date at one day", "[retry_after]") {
    CHECK(parse_retry_after("Mon, 07 Nov 1994 08:49:38 GMT", rfc_example) == seconds{86400});
    CHECK(parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", rfc_example) == seconds{86400});
}

TEST_CASE("parse_retry_after caps a date past the range of system_clock at one day",
          "[retry_after]") {
    // system_clock counts nanoseconds in 64 bits on libstdc++ and libc++: its
    // range ends in April 2262. A later date must still mean "a long time".
    CHECK(parse_retry_after("Sat, 01 Jan 2300 00:00:00 GMT", rfc_example) == seconds{86400});
    CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", rfc_example) == seconds{86400});
}
