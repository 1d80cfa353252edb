// devflow — where lifetimes count from. Servers count `expires_in` in whole
// seconds (Keycloak: exp minus the current second), so a lifetime may end up
// to a second sooner than "receipt + expires_in" suggests; devflow anchors
// every lifetime at the moment its request was sent, less one second
// (docs/design.md: conservative expiry). Pure; tested in
// tests/unit/keycloak_test.cpp and tests/unit/polling_test.cpp.
#pragma once

#include <chrono>

namespace devflow::detail {

/// The rounding a server's whole-second clock may cost a lifetime.
inline constexpr std::chrono::seconds server_rounding{1};

/// The wall time a token's lifetime counts from: the send of its request,
/// less server_rounding.
inline std::chrono::system_clock::time_point lifetime_anchor(
    std::chrono::system_clock::time_point sent_at) noexcept {
    return sent_at - server_rounding;
}

/// When a device code dies (RFC 8628 §3.2 expires_in), anchored the same way
/// on the steady clock.
inline std::chrono::steady_clock::time_point device_code_deadline(
    std::chrono::steady_clock::time_point requested_at, std::chrono::seconds expires_in) noexcept {
    return requested_at - server_rounding + expires_in;
}

}  // namespace devflow::detail
