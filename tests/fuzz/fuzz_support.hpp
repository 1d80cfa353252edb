// devflow fuzzing — what every fuzz target shares: the entry-point macro, the
// invariant check, the readable answer format of the corpora and the canary
// values planted in place of secrets. docs/hardening.md explains the setup.
//
// Every target is one function registered by name. The same sources build
// two programs (tests/fuzz/CMakeLists.txt):
//   devflow_fuzz         libFuzzer (clang, -fsanitize=fuzzer,address,undefined);
//                        the target is picked by the program's name
//                        (devflow_fuzz_<target>) or DEVFLOW_FUZZ_TARGET.
//   devflow_fuzz_replay  any compiler, a plain main that feeds files or
//                        directories to one target: the regression tests.
#pragma once

#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/http_transport.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow_fuzz {

/// One fuzz target: takes any bytes, returns 0, aborts when an invariant breaks.
using entry_point = int (*)(const std::uint8_t* data, std::size_t size);

/// Every target linked into this program, by name.
inline std::map<std::string, entry_point, std::less<>>& registry() {
    static std::map<std::string, entry_point, std::less<>> targets;
    return targets;
}

/// Adds a target to registry() during static initialisation.
struct registrar {
    registrar(const char* name, entry_point fn) { registry().emplace(name, fn); }
};

/// Reports a broken invariant and aborts, so libFuzzer keeps the input and
/// the replay test fails.
[[noreturn]] inline void fail(const char* file, int line, const char* what) {
    std::fprintf(stderr, "devflow fuzz invariant broken at %s:%d: %s\n", file, line, what);
    std::fflush(stderr);
    std::abort();
}

/// The input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// ---------------------------------------------------------------- canaries

/// The marker in every value planted in place of a secret.
inline constexpr std::string_view canary_marker = "DFCANARY";

/// True when `text` holds no planted secret.
inline bool leak_free(std::string_view text) {
    return text.find(canary_marker) == std::string_view::npos;
}

/// True when no member of `o` (string or array item) or name carries the
/// marker already: only then can a leak check tell a leak from an echo.
inline bool marker_free(const devflow::json_object& o) {
    for (const auto& [name, value] : o) {
        if (!leak_free(name) || !leak_free(value.string)) return false;
        for (const auto& s : value.strings)
            if (!leak_free(s)) return false;
    }
    return true;
}

/// The secret members of OAuth answers and stored records.
inline constexpr std::string_view secret_members[] = {"access_token", "refresh_token",
                                                      "id_token", "device_code"};

/// Replaces each non-empty secret member's string with a canary of the same
/// role ("DFCANARY-access_token-7"), so a leak is recognisable wherever it goes.
inline void plant_canaries(devflow::json_object& o, int serial = 0) {
    for (std::string_view name : secret_members) {
        const auto it = o.find(name);
        if (it == o.end() || it->second.type != devflow::json_value::kind::string ||
            it->second.string.empty())
            continue;
        it->second.string =
            std::string(canary_marker) + "-" + std::string(name) + "-" + std::to_string(serial);
    }
}

// ---------------------------------------------------------------- answers

/// One HTTP answer written readably in a corpus file:
///
///     429                      status line: digits, or "transport" for no answer
///     Retry-After: 120         header lines up to the first empty line
///
///     {"error":"slow_down"}    the body: everything after the empty line
///
/// A file without an empty line is all status and headers, with no body.
struct answer {
    bool transport_failure = false;
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// Reads an answer in the format above; never fails (odd input gives odd answers).
inline answer parse_answer(std::string_view in) {
    answer a;
    auto next_line = [&in]() {
        const auto nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return line;
    };
    const std::string_view status = next_line();
    if (status.substr(0, 9) == "transport") {
        a.transport_failure = true;
        a.status = 0;
    } else {
        int v = 0;
        std::size_t digits = 0;
        for (char c : status) {
            if (c < '0' || c > '9' || ++digits > 3) break;
            v = v * 10 + (c - '0');
        }
        a.status = digits == 0 ? 200 : v;
    }
    while (!in.empty()) {
        const std::string_view line = next_line();
        if (line.empty()) {
            a.body = std::string(in);
            break;
        }
        const auto colon = line.find(':');
        std::string_view name = line.substr(0, colon);
        std::string_view value =
            colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        a.headers.emplace_back(std::string(name), std::string(value));
    }
    return a;
}

/// The answer as an http_response (header names lower-cased, as adapters give them).
inline devflow::http_response to_response(const answer& a) {
    if (a.transport_failure)
        return devflow::transport_failure(devflow::transport_error::connect,
                                          "connection reset by fuzz peer");
    devflow::http_response r;
    r.status = a.status;
    for (const auto& [name, value] : a.headers) {
        std::string lower = name;
        for (char& c : lower)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        r.headers.push_back({std::move(lower), devflow::secret{value}});
    }
    r.body = devflow::secret{a.body};
    return r;
}

/// Splits `in` at lines that hold only "%%" (several answers in one file).
inline std::vector<std::string_view> split_sections(std::string_view in) {
    std::vector<std::string_view> out;
    constexpr std::string_view separator = "\n%%\n";
    while (true) {
        const auto at = in.find(separator);
        out.push_back(in.substr(0, at));
        if (at == std::string_view::npos) break;
        in.remove_prefix(at + separator.size());
    }
    return out;
}

/// A fixed wall time for "now" (2026-01-01T00:00:00Z), so runs are reproducible.
inline std::chrono::system_clock::time_point fixed_now() {
    return std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}};
}

/// True when two parsed values are the same JSON member as devflow sees it.
inline bool same_value(const devflow::json_value& a, const devflow::json_value& b) {
    if (a.type != b.type) return false;
    switch (a.type) {
        case devflow::json_value::kind::null: return true;
        case devflow::json_value::kind::boolean: return a.boolean == b.boolean;
        case devflow::json_value::kind::number: return a.number == b.number;
        case devflow::json_value::kind::string: return a.string == b.string;
        case devflow::json_value::kind::array: return a.strings == b.strings;
        case devflow::json_value::kind::object: return true;
    }
    return false;
}

/// True when two flat objects have the same members with the same values.
inline bool same_object(const devflow::json_object& a, const devflow::json_object& b) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
        if (ia->first != ib->first || !same_value(ia->second, ib->second)) return false;
    return true;
}

}  // namespace devflow_fuzz

/// Checks an invariant of the code under test; aborts with the condition's
/// text when it does not hold (never the input: it may hold secrets).
#define DEVFLOW_FUZZ_CHECK(condition) \
    ((condition) ? (void)0 : ::devflow_fuzz::fail(__FILE__, __LINE__, #condition))

/// Defines the fuzz target `name`: `DEVFLOW_FUZZ_TARGET(form) { ... data, size ... }`.
#define DEVFLOW_FUZZ_TARGET(name)                                                          \
    static int devflow_fuzz_target_##name(const std::uint8_t* data, std::size_t size);     \
    static const ::devflow_fuzz::registrar devflow_fuzz_registrar_##name{                   \
        #name, &devflow_fuzz_target_##name};                                               \
    static int devflow_fuzz_target_##name(const std::uint8_t* data, std::size_t size)
