// Canary checks: every token, device code and client secret used in the unit
// tests contains "CANARY"; no exception message, prompt or log line may.
#pragma once

#include "catch.hpp"

#include <devflow/error.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace devflow_test {

/// The marker every secret in the tests carries.
inline constexpr std::string_view canary = "CANARY";

/// True when `text` carries no secret.
inline bool leak_free(std::string_view text) { return text.find(canary) == std::string_view::npos; }

/// Runs `fn`, requires it to throw devflow::error with `code`, requires the
/// message to carry no secret, and returns the error for more checks.
inline devflow::error expect_error(const std::function<void()>& fn, devflow::errc code) {
    try {
        fn();
    } catch (const devflow::error& e) {
        INFO("what(): " << e.what());
        CHECK(e.code() == code);
        CHECK(leak_free(e.what()));
        CHECK(leak_free(e.error_description()));
        return e;
    }
    FAIL("expected devflow::error with code " << devflow::make_error_code(code).message());
    throw std::logic_error("unreachable");
}

}  // namespace devflow_test
