// devflow — which command, if any, opens a URL in the user's browser
// (docs/browser.md). A pure decision: it reads the environment through a
// lookup function and spawns nothing.
#pragma once

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devflow::detail {

/// Looks up one environment variable; std::nullopt when it is unset.
using environment_lookup = std::function<std::optional<std::string>(std::string_view)>;

/// The process environment, through std::getenv.
inline std::optional<std::string> process_environment(std::string_view name) {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

/// Which desktop convention decides the default opener.
enum class browser_platform {
    freedesktop,  ///< Linux and other Unix desktops: xdg-open, headless without a display.
    macos,        ///< macOS: open.
};

/// The platform this program was compiled for.
inline constexpr browser_platform native_browser_platform =
#if defined(__APPLE__)
    browser_platform::macos;
#else
    browser_platform::freedesktop;
#endif

/// True for an http:// or https:// URL (scheme in any case) with something
/// after "//" and only printable, non-space ASCII in it (RFC 8628 §3.3: the
/// verification URI is shown to a user; anything else is not opened).
[[nodiscard]] inline bool is_openable_url(std::string_view url) noexcept {
    auto starts_with_ci = [&](std::string_view prefix) {
        if (url.size() < prefix.size()) return false;
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            char c = url[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c != prefix[i]) return false;
        }
        return true;
    };
    std::size_t rest = 0;
    if (starts_with_ci("https://"))
        rest = 8;
    else if (starts_with_ci("http://"))
        rest = 7;
    else
        return false;  // javascript:, file:, data:, ... are never opened
    if (url.size() == rest || url[rest] == '/') return false;  // no host
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        // Control characters, space and non-ASCII (which hides look-alike and
        // invisible characters) are refused.
        if (byte <= 0x20 || byte >= 0x7f) return false;
    }
    return true;
}

/// Splits one $BROWSER entry on spaces and tabs.
[[nodiscard]] inline std::vector<std::string> split_command(std::string_view entry) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < entry.size()) {
        while (i < entry.size() && (entry[i] == ' ' || entry[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < entry.size() && entry[i] != ' ' && entry[i] != '\t') ++i;
        if (i > start) words.emplace_back(entry.substr(start, i - start));
    }
    return words;
}

/// The argv that opens `url`, or std::nullopt when nothing should be spawned:
/// the URL is not an openable http(s) URL, or no browser is configured on a
/// headless machine. $BROWSER (a colon-separated list; its first non-empty
/// entry, split on whitespace, "%s" replaced by the URL or else the URL
/// appended) wins; otherwise freedesktop needs $DISPLAY or $WAYLAND_DISPLAY
/// and uses xdg-open, and macOS uses open. Never a shell.
[[nodiscard]] inline std::optional<std::vector<std::string>> browser_command(
    std::string_view url, const environment_lookup& environment,
    browser_platform platform = native_browser_platform) {
    if (!is_openable_url(url)) return std::nullopt;
    auto lookup = [&](std::string_view name) -> std::string {
        if (!environment) return {};
        std::optional<std::string> value = environment(name);
        return value ? *value : std::string();
    };

    const std::string browser_list = lookup("BROWSER");
    std::string_view list = browser_list;
    while (!list.empty()) {
        const std::size_t colon = list.find(':');
        const std::string_view entry = list.substr(0, colon);
        list = colon == std::string_view::npos ? std::string_view() : list.substr(colon + 1);
        std::vector<std::string> argv = split_command(entry);
        if (argv.empty()) continue;
        bool substituted = false;
        for (auto& word : argv) {
            for (std::size_t at = word.find("%s"); at != std::string::npos;
                 at = word.find("%s", at + url.size())) {
                word.replace(at, 2, url);
                substituted = true;
            }
        }
        if (!substituted) argv.emplace_back(url);
        return argv;
    }

    if (platform == browser_platform::macos) return std::vector<std::string>{"open", std::string(url)};
    // RFC 8628 §3.3 expects the user to open the URI on another device when
    // there is no display here: headless means no spawn.
    if (lookup("DISPLAY").empty() && lookup("WAYLAND_DISPLAY").empty()) return std::nullopt;
    return std::vector<std::string>{"xdg-open", std::string(url)};
}

}  // namespace devflow::detail
