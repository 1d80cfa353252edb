// devflow — what the shipped HTTP adapters (curl_http and httplib_http) share:
// the caps on an answer's size (body, header lines, header bytes), their
// validation and messages, and the loopback rule for proxies. The core does
// not use it; keeping it here keeps the two adapters to one rule each.
#pragma once

#include <devflow/detail/url.hpp>
#include <devflow/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace devflow::detail {

/// The default response caps of both adapters' options.
inline constexpr std::size_t default_max_body_bytes = std::size_t{1} << 20;
inline constexpr std::size_t default_max_header_count = 100;
inline constexpr std::size_t default_max_header_bytes = std::size_t{64} << 10;

/// Which cap an answer passed.
enum class response_cap {
    body,          ///< max_body_bytes
    header_count,  ///< max_header_count
    header_bytes,  ///< max_header_bytes
};

/// Throws errc::invalid_config, naming the option, when a cap is zero.
/// `adapter` prefixes the message ("curl_http").
inline void require_positive_caps(std::string_view adapter, std::size_t max_body_bytes,
                                  std::size_t max_header_count, std::size_t max_header_bytes) {
    const auto refuse = [adapter](std::string_view option) {
        throw_error(errc::invalid_config,
                    std::string(adapter) + ": " + std::string(option) + " must be positive");
    };
    if (max_body_bytes == 0) refuse("max_body_bytes");
    if (max_header_count == 0) refuse("max_header_count");
    if (max_header_bytes == 0) refuse("max_header_bytes");
}

/// The transport_message of an answer refused by `cap`, whose value is
/// `limit`: it names the option, never anything the server sent (a header
/// may hold a secret).
inline std::string cap_message(std::string_view adapter, response_cap cap, std::size_t limit) {
    std::string m(adapter);
    switch (cap) {
        case response_cap::body:
            m += ": the response body is larger than max_body_bytes (";
            m += std::to_string(limit);
            m += " bytes)";
            break;
        case response_cap::header_count:
            m += ": the response has more header lines than max_header_count (";
            m += std::to_string(limit);
            m += ")";
            break;
        case response_cap::header_bytes:
            m += ": the response headers are larger than max_header_bytes (";
            m += std::to_string(limit);
            m += " bytes)";
            break;
    }
    return m;
}

/// Counts the header lines of one answer against max_header_count and
/// max_header_bytes as they arrive. A line's bytes include its line ending;
/// only header fields count towards the line cap (a status line or the blank
/// line ending a block adds bytes only).
class header_tally {
public:
    header_tally(std::size_t max_count, std::size_t max_bytes) noexcept
        : max_count_(max_count), max_bytes_(max_bytes) {}

    /// Counts one line of `bytes` bytes, a header field when `field`.
    /// Returns false when that line passes a cap (exceeded() says which);
    /// once passed, every later line is refused too.
    bool add(std::size_t bytes, bool field) noexcept {
        if (exceeded_) return false;
        if (bytes > max_bytes_ - bytes_) {
            exceeded_ = response_cap::header_bytes;
            return false;
        }
        bytes_ += bytes;
        if (field && ++count_ > max_count_) {
            exceeded_ = response_cap::header_count;
            return false;
        }
        return true;
    }

    /// The cap a line passed, if one did.
    [[nodiscard]] std::optional<response_cap> exceeded() const noexcept { return exceeded_; }

    /// The value of the cap that was passed (0 when none was).
    [[nodiscard]] std::size_t limit() const noexcept {
        if (!exceeded_) return 0;
        return *exceeded_ == response_cap::header_count ? max_count_ : max_bytes_;
    }

private:
    std::size_t max_count_;
    std::size_t max_bytes_;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    std::optional<response_cap> exceeded_;
};

/// True when `url` names a loopback host by devflow's one rule
/// (detail::is_loopback_host). A request to such a host never goes through a
/// proxy: it would send what may be a token, over plain http, to another
/// machine.
inline bool is_loopback_url(std::string_view url) {
    const auto parts = parse_url(url);
    return parts && is_loopback_host(parts->host);
}

}  // namespace devflow::detail
