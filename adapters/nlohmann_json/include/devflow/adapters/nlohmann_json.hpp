// devflow — nlohmann_json: the json_codec built on nlohmann/json (3.10 or later).
//
// A strict parser for OAuth response bodies and a writer for flat objects.
// docs/adapters/nlohmann_json.md says what it accepts and rejects, and why.
#pragma once

#include <devflow/detail/display_text.hpp>
#include <devflow/detail/wiping_allocator.hpp>
#include <devflow/secret.hpp>
#include <devflow/types.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow {

/// Models devflow::json_codec with nlohmann/json: strict parsing of one JSON
/// object (RFC 8259) into a flat json_object, compact writing of one back.
struct nlohmann_json {
    /// Deepest nesting accepted; the top-level object counts as depth 1.
    static constexpr std::size_t max_depth = 32;

    /// Largest input accepted, in bytes (1 MiB).
    static constexpr std::size_t max_size = std::size_t{1} << 20;

    /// Parses `text` as one JSON object; std::nullopt when it is anything else
    /// (not an object, malformed, duplicate names at any depth, deeper than
    /// max_depth, larger than max_size, invalid UTF-8, trailing bytes).
    /// Never throws.
    [[nodiscard]] std::optional<json_object> parse(std::string_view text) const noexcept;

    /// Writes `object` as compact JSON: integral numbers without a fraction,
    /// NaN and infinities as null, invalid UTF-8 replaced by U+FFFD.
    [[nodiscard]] std::string write(const json_object& object) const;
};

// ---------------------------------------------------------------- details

namespace detail::nlohmann_adapter {

using detail::wiping_allocator;

/// The string type nlohmann/json uses here: its buffers are wiped when freed.
using wiping_string = std::basic_string<char, std::char_traits<char>, wiping_allocator<char>>;

/// nlohmann::basic_json with every string, node and array wiped when freed.
using json = nlohmann::basic_json<std::map, std::vector, wiping_string, bool, std::int64_t,
                                  std::uint64_t, double, wiping_allocator>;

/// Overwrites a wiping_string's whole buffer (including a small-string
/// buffer, which no allocator sees) and empties it.
inline void wipe(wiping_string& s) noexcept {
    volatile char* p = s.data();
    const std::size_t n = s.capacity();
    for (std::size_t i = 0; i < n; ++i) p[i] = '\0';
    s.clear();
}

/// The string values of a JSON text, decoded by devflow, in document order.
/// The vector's own storage is wiped when freed (short strings live inside it).
using lifted_strings = std::vector<wiping_string, wiping_allocator<wiping_string>>;

/// Decodes the JSON string literal that starts at text[at] (the opening
/// quote) into `out` (RFC 8259 §7: escapes, surrogate pairs, well-formed
/// UTF-8, no raw control characters) and returns the index after its closing
/// quote, or 0 when the literal is invalid or unterminated. `out` is reserved
/// once to the literal's length, so it never reallocates.
inline std::size_t decode_string_literal(std::string_view text, std::size_t at, wiping_string& out) {
    std::size_t end = at + 1;
    while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
    if (end >= text.size()) return 0;
    out.reserve(end - at);
    auto hex4 = [&text](std::size_t i, char32_t& unit) {
        if (i + 4 > text.size()) return false;
        unit = 0;
        for (std::size_t k = i; k < i + 4; ++k) {
            const char c = text[k];
            const int v = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (v < 0) return false;
            unit = unit * 16 + static_cast<char32_t>(v);
        }
        return true;
    };
    auto put = [&out](char32_t cp) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    };
    std::size_t i = at + 1;
    while (i < end) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20) return 0;  // RFC 8259 §7: control characters must be escaped
        if (c == '\\') {
            const char e = text[i + 1];
            switch (e) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    char32_t unit = 0;
                    if (!hex4(i + 2, unit)) return 0;
                    i += 6;
                    if (unit >= 0xDC00 && unit <= 0xDFFF) return 0;  // a lone low surrogate
                    if (unit >= 0xD800 && unit <= 0xDBFF) {
                        char32_t low = 0;
                        if (i + 1 >= end || text[i] != '\\' || text[i + 1] != 'u' || !hex4(i + 2, low) ||
                            low < 0xDC00 || low > 0xDFFF)
                            return 0;  // a high surrogate needs its low half
                        i += 6;
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    }
                    put(unit);
                    continue;
                }
                default: return 0;
            }
            i += 2;
            continue;
        }
        char32_t cp = 0;
        const std::size_t n = utf8_sequence(text.substr(i, end - i), cp);
        if (n == 0) return 0;  // not well-formed UTF-8
        out.append(text.data() + i, n);
        i += n;
    }
    return end + 1;
}

/// Copies `text` into `skeleton` with every string value (not the member
/// names) replaced by "" and decoded into `values`, in document order.
///
/// Why: nlohmann's lexer keeps the raw bytes of every token in an internal
/// std::vector that grows by reallocation and is freed without being wiped,
/// so parsing a token answer would leave copies of the tokens in freed heap.
/// With the values lifted out, the lexer only ever sees names, numbers and
/// structure; the SAX handler takes the values from `values` in order.
/// Returns false when a string literal is invalid (nlohmann would refuse the
/// text too); everything else is left for nlohmann to judge.
inline bool lift_strings(std::string_view text, std::string& skeleton, lifted_strings& values) {
    skeleton.reserve(text.size());
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '"') continue;
        ++count;
        ++i;
        while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
    }
    values.reserve(count);
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '"') {
            skeleton.push_back(text[i++]);
            continue;
        }
        wiping_string value;
        const std::size_t next = decode_string_literal(text, i, value);
        if (next == 0) return false;
        std::size_t after = next;
        while (after < text.size() &&
               (text[after] == ' ' || text[after] == '\t' || text[after] == '\n' || text[after] == '\r'))
            ++after;
        if (after < text.size() && text[after] == ':') {
            skeleton.append(text.data() + i, next - i);  // a member name: kept as written
        } else {
            skeleton.append("\"\"");
            values.push_back(std::move(value));
        }
        i = next;
    }
    return true;
}

/// SAX handler that builds the flat json_object directly (no DOM) and rejects
/// duplicate names at every depth and nesting deeper than max_depth.
class flat_object_builder {
public:
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using string_t = json::string_t;
    using binary_t = json::binary_t;

    bool null() { return scalar(json_value::make_null()); }
    bool boolean(bool b) { return scalar(json_value::make_bool(b)); }
    // RFC 8259 §6: every number is kept as a double.
    bool number_integer(number_integer_t n) {
        return scalar(json_value::make_number(static_cast<double>(n)));
    }
    bool number_unsigned(number_unsigned_t n) {
        return scalar(json_value::make_number(static_cast<double>(n)));
    }
    // The text is a template so nlohmann's binary readers (never used here)
    // still compile with a custom string type.
    template <class Text>
    bool number_float(number_float_t n, const Text&) {
        return scalar(json_value::make_number(n));
    }

    /// The string values lift_strings() took out of the text, in order.
    explicit flat_object_builder(const lifted_strings& values) : values_(values) {}

    bool string(string_t& placeholder) {
        // The lexer saw "" in place of each value; the value is the next lifted one.
        if (!placeholder.empty() || next_value_ >= values_.size()) return false;
        const wiping_string& s = values_[next_value_++];
        const std::size_t depth = frames_.size();
        if (depth == 0) return false;  // a string at top level is not an object
        if (depth == 1) {
            member_->type = json_value::kind::string;
            member_->string.assign(s.data(), s.size());
        } else if (depth == 2 && member_->type == json_value::kind::array) {
            // A direct item of a member array. The vector grows here rather
            // than in emplace_back: a reallocation moves the items and frees
            // the old storage, and a short item lives inside the string
            // object there; with optimisation (g++ -O3) the moved-from string's
            // reset is a dead store before the free and is dropped, leaving
            // its bytes in freed heap. Each moved-from item is wiped instead.
            std::vector<std::string>& items = member_->strings;
            if (items.size() == items.capacity()) {
                std::vector<std::string> grown;
                grown.reserve(items.empty() ? 4 : 2 * items.size());
                for (std::string& item : items) {
                    grown.push_back(std::move(item));
                    devflow::detail::wipe(item);
                }
                items.swap(grown);
            }
            items.emplace_back(s.data(), s.size());
        }
        return true;
    }

    bool binary(binary_t&) { return false; }  // never produced by JSON text

    bool start_object(std::size_t) {
        if (frames_.size() >= nlohmann_json::max_depth) return false;
        if (frames_.size() == 1) member_->type = json_value::kind::object;  // contents dropped
        frames_.emplace_back();
        return true;
    }

    bool key(string_t& name) {
        if (frames_.size() == 1) {
            // RFC 8259 §4: names SHOULD be unique; a duplicate is rejected, never resolved.
            auto [it, inserted] = result_.try_emplace(std::string(name.data(), name.size()));
            if (!inserted) return false;
            member_ = &it->second;
            return true;
        }
        return frames_.back().insert(name).second;  // duplicates are rejected at every depth
    }

    bool end_object() {
        frames_.pop_back();
        if (frames_.empty()) complete_ = true;
        return true;
    }

    bool start_array(std::size_t) {
        if (frames_.empty()) return false;  // an array at top level is not an object
        if (frames_.size() >= nlohmann_json::max_depth) return false;
        if (frames_.size() == 1) member_->type = json_value::kind::array;
        frames_.emplace_back();
        return true;
    }

    bool end_array() {
        frames_.pop_back();
        return true;
    }

    template <class Exception>
    bool parse_error(std::size_t, const std::string&, const Exception&) {
        return false;  // the message quotes input bytes: it is never kept or shown
    }

    /// True once the top-level object has been closed.
    [[nodiscard]] bool complete() const noexcept { return complete_; }

    /// The members read so far.
    [[nodiscard]] json_object& result() noexcept { return result_; }

private:
    /// One open object or array: the names seen so far (objects below the top only).
    using frame = std::set<wiping_string, std::less<>>;

    bool scalar(json_value&& value) {
        const std::size_t depth = frames_.size();
        if (depth == 0) return false;  // a scalar at top level is not an object
        if (depth == 1) *member_ = std::move(value);
        return true;  // deeper scalars (and non-string array items) are dropped
    }

    const lifted_strings& values_;
    std::size_t next_value_ = 0;
    json_object result_;
    std::vector<frame> frames_;
    json_value* member_ = nullptr;  // the top-level member being filled
    bool complete_ = false;
};

/// Stores a double the way a reader expects to see it: integral values in
/// the int64 range as integers (1700000000, not 1.7e9), others as doubles.
inline json number_to_json(double n) {
    constexpr double two_pow_63 = 9223372036854775808.0;
    if (std::isfinite(n) && std::trunc(n) == n && n >= -two_pow_63 && n < two_pow_63)
        return json(static_cast<std::int64_t>(n));
    return json(n);  // nlohmann writes NaN and infinities as null
}

/// Copies a std::string into a wiping_string.
inline wiping_string to_wiping(const std::string& s) { return wiping_string(s.data(), s.size()); }

}  // namespace detail::nlohmann_adapter

inline std::optional<json_object> nlohmann_json::parse(std::string_view text) const noexcept {
    namespace impl = detail::nlohmann_adapter;
    if (text.empty() || text.size() > max_size) return std::nullopt;
    // RFC 8259 §2: a raw NUL byte is never valid JSON text; nlohmann's lexer
    // would take it for the end of input and ignore whatever follows.
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    try {
        // The values (which may be tokens) are decoded by devflow into wiped
        // buffers; nlohmann reads the rest (see lift_strings).
        std::string skeleton;
        impl::lifted_strings values;
        struct wipe_on_exit {
            std::string& s;
            ~wipe_on_exit() { detail::wipe(s); }
        } const wipe_skeleton{skeleton};
        if (!impl::lift_strings(text, skeleton, values)) return std::nullopt;
        impl::flat_object_builder builder(values);
        // RFC 8259 §2: one value and nothing after it (strict); no comments.
        const bool ok = impl::json::sax_parse(skeleton.data(), skeleton.data() + skeleton.size(),
                                              &builder, nlohmann::json::input_format_t::json,
                                              /*strict=*/true, /*ignore_comments=*/false);
        if (!ok || !builder.complete()) return std::nullopt;
        return std::optional<json_object>(std::move(builder.result()));
    } catch (...) {
        return std::nullopt;  // e.g. std::bad_alloc: nothing usable
    }
}

inline std::string nlohmann_json::write(const json_object& object) const {
    namespace impl = detail::nlohmann_adapter;
    impl::json doc = impl::json::object();
    for (const auto& [name, value] : object) {
        impl::json& slot = doc[impl::to_wiping(name)];
        switch (value.type) {
            case json_value::kind::null: slot = nullptr; break;
            case json_value::kind::boolean: slot = value.boolean; break;
            case json_value::kind::number: slot = impl::number_to_json(value.number); break;
            case json_value::kind::string: slot = impl::to_wiping(value.string); break;
            case json_value::kind::array:
                slot = impl::json::array();
                for (const auto& item : value.strings) slot.push_back(impl::to_wiping(item));
                break;
            case json_value::kind::object: slot = impl::json::object(); break;
        }
    }
    impl::wiping_string text =
        doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string out(text.data(), text.size());
    impl::wipe(text);
    return out;
}

}  // namespace devflow
