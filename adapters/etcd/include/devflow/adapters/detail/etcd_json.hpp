// devflow — the JSON etcd's v3 gateway speaks: a small reader for its nested
// answers and the quoting its requests need. Pure functions; tested in
// tests/stores/etcd_json_test.cpp.
//
// Why not the Json policy: a devflow::json_codec reads flat objects only
// (types.hpp: nested arrays and objects keep no members), and every etcd
// answer nests (`kvs` is an array of objects, `result` an object).
#pragma once

#include <devflow/secret.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace devflow::detail::etcd {

/// One JSON value. String contents are wiped when the node is destroyed
/// (etcd answers carry records, base64-encoded).
struct json_node {
    enum class kind { null, boolean, number, string, array, object };
    kind type = kind::null;
    bool boolean = false;
    std::string text;  ///< a string's contents, or a number's literal
    std::vector<json_node> items;                         ///< for kind::array
    std::vector<std::pair<std::string, json_node>> members;  ///< for kind::object, in order

    json_node() = default;
    json_node(const json_node&) = default;
    json_node(json_node&&) noexcept = default;
    json_node& operator=(const json_node&) = default;
    json_node& operator=(json_node&&) noexcept = default;
    ~json_node() { wipe(text); }

    /// The member called `name` of an object; nullptr when absent or not an object.
    [[nodiscard]] const json_node* get(std::string_view name) const noexcept {
        if (type != kind::object) return nullptr;
        for (const auto& [n, v] : members)
            if (n == name) return &v;
        return nullptr;
    }
};

/// Deepest nesting parse_json accepts.
inline constexpr std::size_t max_json_depth = 16;

namespace json_parsing {

struct parser {
    std::string_view in;
    std::size_t at = 0;

    void skip_space() noexcept {
        while (at < in.size() && (in[at] == ' ' || in[at] == '\t' || in[at] == '\n' || in[at] == '\r')) ++at;
    }
    bool literal(std::string_view word) noexcept {
        if (in.substr(at, word.size()) != word) return false;
        at += word.size();
        return true;
    }
    static int hex(char c) noexcept {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    bool unit(std::uint32_t& u) noexcept {
        if (at + 4 > in.size()) return false;
        u = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int v = hex(in[at + k]);
            if (v < 0) return false;
            u = u * 16 + static_cast<std::uint32_t>(v);
        }
        at += 4;
        return true;
    }
    static void put_utf8(std::uint32_t cp, std::string& out) {
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
    }
    // A string literal starting at the opening quote; `out` is reserved once
    // to the literal's length (no reallocation leaves a copy behind).
    bool string(std::string& out) {
        if (at >= in.size() || in[at] != '"') return false;
        std::size_t end = at + 1;
        while (end < in.size() && in[end] != '"') end += in[end] == '\\' ? 2 : 1;
        if (end >= in.size()) return false;
        out.reserve(end - at);
        ++at;
        while (at < end) {
            const char c = in[at];
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out.push_back(c);
                ++at;
                continue;
            }
            const char e = in[at + 1];
            at += 2;
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
                    std::uint32_t u = 0;
                    if (!unit(u)) return false;
                    if (u >= 0xDC00 && u <= 0xDFFF) return false;
                    if (u >= 0xD800 && u <= 0xDBFF) {
                        std::uint32_t low = 0;
                        if (!literal("\\u") || !unit(low) || low < 0xDC00 || low > 0xDFFF) return false;
                        u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
                    }
                    put_utf8(u, out);
                    break;
                }
                default: return false;
            }
        }
        if (at != end) return false;  // an escape ran past the closing quote
        ++at;
        return true;
    }
    bool number(std::string& out) {
        const std::size_t start = at;
        if (at < in.size() && in[at] == '-') ++at;
        const std::size_t digits = at;
        while (at < in.size() && in[at] >= '0' && in[at] <= '9') ++at;
        if (at == digits || (in[digits] == '0' && at - digits > 1)) return false;
        if (at < in.size() && in[at] == '.') {
            const std::size_t frac = ++at;
            while (at < in.size() && in[at] >= '0' && in[at] <= '9') ++at;
            if (at == frac) return false;
        }
        if (at < in.size() && (in[at] == 'e' || in[at] == 'E')) {
            ++at;
            if (at < in.size() && (in[at] == '+' || in[at] == '-')) ++at;
            const std::size_t exp = at;
            while (at < in.size() && in[at] >= '0' && in[at] <= '9') ++at;
            if (at == exp) return false;
        }
        out.assign(in.substr(start, at - start));
        return true;
    }
    bool value(json_node& node, std::size_t depth) {
        if (depth > max_json_depth) return false;
        skip_space();
        if (at >= in.size()) return false;
        const char c = in[at];
        if (c == '{') {
            node.type = json_node::kind::object;
            ++at;
            skip_space();
            if (at < in.size() && in[at] == '}') {
                ++at;
                return true;
            }
            while (true) {
                skip_space();
                std::string name;
                if (!string(name)) return false;
                for (const auto& m : node.members)
                    if (m.first == name) return false;  // duplicate names are refused
                skip_space();
                if (at >= in.size() || in[at] != ':') return false;
                ++at;
                node.members.emplace_back(std::move(name), json_node{});
                if (!value(node.members.back().second, depth + 1)) return false;
                skip_space();
                if (at < in.size() && in[at] == ',') {
                    ++at;
                    continue;
                }
                if (at < in.size() && in[at] == '}') {
                    ++at;
                    return true;
                }
                return false;
            }
        }
        if (c == '[') {
            node.type = json_node::kind::array;
            ++at;
            skip_space();
            if (at < in.size() && in[at] == ']') {
                ++at;
                return true;
            }
            while (true) {
                node.items.emplace_back();
                if (!value(node.items.back(), depth + 1)) return false;
                skip_space();
                if (at < in.size() && in[at] == ',') {
                    ++at;
                    continue;
                }
                if (at < in.size() && in[at] == ']') {
                    ++at;
                    return true;
                }
                return false;
            }
        }
        if (c == '"') {
            node.type = json_node::kind::string;
            return string(node.text);
        }
        if (literal("true")) {
            node.type = json_node::kind::boolean;
            node.boolean = true;
            return true;
        }
        if (literal("false")) {
            node.type = json_node::kind::boolean;
            return true;
        }
        if (literal("null")) return true;
        node.type = json_node::kind::number;
        return number(node.text);
    }
};

}  // namespace json_parsing

/// Parses `text` as one JSON value (RFC 8259; nesting up to max_json_depth,
/// duplicate object names refused); std::nullopt when it is anything else.
inline std::optional<json_node> parse_json(std::string_view text) {
    json_parsing::parser p{text};
    json_node root;
    if (!p.value(root, 1)) return std::nullopt;
    p.skip_space();
    if (p.at != text.size()) return std::nullopt;
    return root;
}

/// `value` as a JSON string literal, quotes included. Sized once for the
/// worst case (every byte a \u00XX escape), so a password never leaves a
/// copy in a buffer that grew.
inline std::string quote(std::string_view value) {
    std::string out;
    out.reserve(value.size() * 6 + 2);
    out.push_back('"');
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            static constexpr char digits[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(digits[u >> 4]);
            out.push_back(digits[u & 15]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

/// An etcd int64 field: the gateway writes 64-bit integers as decimal
/// strings ("42"), and leaves out fields that are zero. Returns 0 for an
/// absent member, the value for a decimal string or an integral number, and
/// std::nullopt for anything else.
inline std::optional<std::int64_t> int_field(const json_node& object, std::string_view name) {
    const json_node* v = object.get(name);
    if (v == nullptr || v->type == json_node::kind::null) return 0;
    if (v->type != json_node::kind::string && v->type != json_node::kind::number) return std::nullopt;
    std::string_view digits = v->text;
    bool negative = false;
    if (!digits.empty() && digits.front() == '-') {
        negative = true;
        digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 19) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    const auto s = static_cast<std::int64_t>(n);
    return negative ? -s : s;
}

}  // namespace devflow::detail::etcd
