// Helpers of the CLI's settings tests: an environment from a map, and a
// command line that must parse.
#pragma once

#include "catch.hpp"

#include "settings.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow_test {

/// An environment holding `vars` and nothing else.
inline devflow::cli::environment env_of(std::map<std::string, std::string> vars) {
    return [vars](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

/// The options of a command line that parses.
inline devflow::cli::options parsed(std::vector<std::string_view> args) {
    const auto r = devflow::cli::parse_arguments(args);
    REQUIRE(r.ok());
    return r.opts;
}

}  // namespace devflow_test
