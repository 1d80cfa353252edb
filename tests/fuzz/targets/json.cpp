// Fuzz target: the nlohmann_json adapter itself (RFC 8259) on any bytes.
// Invariants: parse never throws; it refuses what docs/adapters/nlohmann_json.md
// says it refuses (empty, NUL bytes, over 1 MiB); whatever it accepts, write()
// turns into text that parses back to the same flat object, and writing that
// again gives the same text (write is a fixed point after one round).
#include "../fuzz_support.hpp"

DEVFLOW_FUZZ_TARGET(json) {
    const devflow::nlohmann_json json;
    const std::string_view text = devflow_fuzz::as_text(data, size);
    const auto parsed = json.parse(text);  // noexcept: a throw would terminate
    if (!parsed) return 0;
    DEVFLOW_FUZZ_CHECK(!text.empty() && text.find('\0') == std::string_view::npos);
    DEVFLOW_FUZZ_CHECK(text.size() <= devflow::nlohmann_json::max_size);

    const std::string written = json.write(*parsed);
    const auto reparsed = json.parse(written);
    DEVFLOW_FUZZ_CHECK(reparsed.has_value());
    DEVFLOW_FUZZ_CHECK(devflow_fuzz::same_object(*parsed, *reparsed));
    DEVFLOW_FUZZ_CHECK(json.write(*reparsed) == written);
    return 0;
}
