// Canary checks: every token, device code and client secret used in the unit
// tests contains "CANARY"; no exception message, prompt or log line may.
#pragma once

#include "catch.hpp"

#include <devflow/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

namespace devflow_test {

/// True when DEVFLOW_TEST_VERBOSE is set and not "0": captured prompts, log
/// lines and exception messages are then also printed to stderr, for
/// scripts/canary_check.sh to scan.
inline bool test_verbose() {
    static const bool on = [] {
        const char* v = std::getenv("DEVFLOW_TEST_VERBOSE");
        return v != nullptr && *v != '\0' && std::string_view(v) != "0";
    }();
    return on;
}

/// Prints one captured line ("devflow-test <kind>: <line>") to stderr when
/// test_verbose() is on.
inline void echo_captured(std::string_view kind, std::string_view line) {
    if (!test_verbose() || line.empty()) return;
    std::string out = "devflow-test ";
    out.append(kind).append(": ").append(line);
    if (out.back() != '\n') out.push_back('\n');
    std::fputs(out.c_str(), stderr);
}

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
        echo_captured("error", e.what());
        echo_captured("error_description", e.error_description());
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
