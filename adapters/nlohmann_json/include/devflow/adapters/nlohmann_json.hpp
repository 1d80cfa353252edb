// devflow — nlohmann_json: the json_codec built on nlohmann/json (3.10 or later).
//
// A strict parser for OAuth response bodies and a writer for flat objects.
// docs/adapters/nlohmann_json.md says what it accepts and rejects, and why.
#pragma once

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

/// A std::allocator that overwrites memory before giving it back, so the
/// buffers nlohmann/json fills with token text leave no copy on the heap.
template <class T>
struct wiping_allocator {
    using value_type = T;

    wiping_allocator() noexcept = default;
    template <class U>
    wiping_allocator(const wiping_allocator<U>&) noexcept {}  // implicit, as rebinding needs

    /// Allocates room for `n` objects of type T.
    [[nodiscard]] T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }

    /// Zeroes the block, then frees it.
    void deallocate(T* p, std::size_t n) noexcept {
        volatile unsigned char* bytes = reinterpret_cast<volatile unsigned char*>(p);
        for (std::size_t i = 0; i < n * sizeof(T); ++i) bytes[i] = 0;
        std::allocator<T>{}.deallocate(p, n);
    }

    template <class U>
    friend bool operator==(const wiping_allocator&, const wiping_allocator<U>&) noexcept {
        return true;
    }
};

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

    bool string(string_t& s) {
        const std::size_t depth = frames_.size();
        bool ok = true;
        if (depth == 0) {
            ok = false;  // a string at top level is not an object
        } else if (depth == 1) {
            member_->type = json_value::kind::string;
            member_->string.assign(s.data(), s.size());
        } else if (depth == 2 && member_->type == json_value::kind::array) {
            member_->strings.emplace_back(s.data(), s.size());  // a direct item of a member array
        }
        wipe(s);  // the parser's own buffer holds the value too
        return ok;
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
        impl::flat_object_builder builder;
        // RFC 8259 §2: one value and nothing after it (strict); no comments.
        const bool ok = impl::json::sax_parse(text.data(), text.data() + text.size(), &builder,
                                              nlohmann::json::input_format_t::json,
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
