// system_browser: which command opens the verification URL (a pure decision)
// and a real spawn of it, never through a shell (RFC 8628 §3.3, docs/browser.md).
#include <devflow/concepts.hpp>
#include <devflow/detail/browser_command.hpp>
#include <devflow/system_browser.hpp>

#include "catch.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(devflow::browser<devflow::system_browser>);
static_assert(devflow::browser<devflow::no_browser>);

namespace {

namespace fs = std::filesystem;
using devflow::detail::browser_command;
using devflow::detail::browser_platform;
using argv_t = std::vector<std::string>;

/// An environment made of the given variables only.
devflow::detail::environment_lookup env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

const std::string url = "https://sso.example.com/realms/x/device?user_code=WDJB-MJHT";

std::optional<argv_t> command(std::string_view u, std::map<std::string, std::string> vars,
                              browser_platform platform = browser_platform::freedesktop) {
    return browser_command(u, env(std::move(vars)), platform);
}

/// A fresh directory for one test, removed afterwards.
struct temp_dir : devflow_test::temp_dir {
    temp_dir() : devflow_test::temp_dir("devflow-browser") {}
};

std::vector<std::string> read_lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

// ---------------------------------------------------------------- which URLs

TEST_CASE("browser_command opens only http and https URLs whatever the case of the scheme", "[browser]") {
    const std::map<std::string, std::string> desktop{{"DISPLAY", ":0"}};
    CHECK(command("https://example.com/device", desktop) == argv_t{"xdg-open", "https://example.com/device"});
    CHECK(command("http://127.0.0.1:8080/device", desktop).has_value());
    CHECK(command("HTTPS://EXAMPLE.COM/device", desktop) == argv_t{"xdg-open", "HTTPS://EXAMPLE.COM/device"});
    CHECK(command("HtTp://example.com", desktop).has_value());

    CHECK_FALSE(command("javascript:alert(1)", desktop).has_value());
    CHECK_FALSE(command("file:///etc/passwd", desktop).has_value());
    CHECK_FALSE(command("data:text/html,hello", desktop).has_value());
    CHECK_FALSE(command("ftp://example.com/", desktop).has_value());
    CHECK_FALSE(command("https:example.com", desktop).has_value());
    CHECK_FALSE(command("https:/example.com", desktop).has_value());
    CHECK_FALSE(command("https://", desktop).has_value());
    CHECK_FALSE(command("https:///etc/passwd", desktop).has_value());
    CHECK_FALSE(command("example.com/device", desktop).has_value());
    CHECK_FALSE(command("", desktop).has_value());
    CHECK_FALSE(command(" https://example.com", desktop).has_value());
    CHECK_FALSE(command("-https://example.com", desktop).has_value());
}

TEST_CASE("browser_command refuses URLs with whitespace or control characters", "[browser]") {
    const std::map<std::string, std::string> desktop{{"DISPLAY", ":0"}};
    CHECK_FALSE(command("https://example.com/a b", desktop).has_value());
    CHECK_FALSE(command("https://example.com/a\tb", desktop).has_value());
    CHECK_FALSE(command("https://example.com/\n--option", desktop).has_value());
    CHECK_FALSE(command("https://example.com/\r", desktop).has_value());
    CHECK_FALSE(command("https://example.com/\x7f", desktop).has_value());
    CHECK_FALSE(command("https://example.com/\x1b[2J", desktop).has_value());
    CHECK_FALSE(command(std::string_view("https://example.com/\0x", 22), desktop).has_value());
    CHECK_FALSE(command("https://ex\xc3\xa4mple.com/", desktop).has_value());  // non-ASCII
    CHECK(devflow::detail::is_openable_url("https://example.com/?q=%20&a=b#frag"));
    CHECK_FALSE(devflow::detail::is_openable_url("https://example.com/ "));
}

// ---------------------------------------------------------------- which command

TEST_CASE("browser_command uses xdg-open when an X11 or Wayland display is present", "[browser]") {
    CHECK(command(url, {{"DISPLAY", ":0"}}) == argv_t{"xdg-open", url});
    CHECK(command(url, {{"WAYLAND_DISPLAY", "wayland-0"}}) == argv_t{"xdg-open", url});
    CHECK(command(url, {{"DISPLAY", ""}, {"WAYLAND_DISPLAY", "wayland-1"}}) == argv_t{"xdg-open", url});
}

TEST_CASE("browser_command spawns nothing on a headless machine", "[browser]") {
    CHECK_FALSE(command(url, {}).has_value());
    CHECK_FALSE(command(url, {{"DISPLAY", ""}, {"WAYLAND_DISPLAY", ""}}).has_value());
    CHECK_FALSE(command(url, {{"HOME", "/home/u"}, {"TERM", "xterm"}}).has_value());
    CHECK_FALSE(browser_command(url, devflow::detail::environment_lookup{}).has_value());
}

TEST_CASE("browser_command lets BROWSER win and appends the URL when it has no placeholder", "[browser]") {
    CHECK(command(url, {{"BROWSER", "firefox"}}) == argv_t{"firefox", url});  // even headless
    CHECK(command(url, {{"BROWSER", "firefox"}, {"DISPLAY", ":0"}}) == argv_t{"firefox", url});
    CHECK(command(url, {{"BROWSER", "  firefox \t --new-window  "}}) ==
          argv_t{"firefox", "--new-window", url});
}

TEST_CASE("browser_command replaces the BROWSER placeholder with the URL", "[browser]") {
    CHECK(command(url, {{"BROWSER", "chromium --app=%s --incognito"}}) ==
          argv_t{"chromium", "--app=" + url, "--incognito"});
    CHECK(command(url, {{"BROWSER", "open-it %s %s"}}) == argv_t{"open-it", url, url});
    // A "%s" inside the URL itself is not substituted again.
    const std::string odd = "https://example.com/a%sb";
    CHECK(command(odd, {{"BROWSER", "b %s"}}) == argv_t{"b", odd});
}

TEST_CASE("browser_command takes the first non-empty entry of a BROWSER list", "[browser]") {
    CHECK(command(url, {{"BROWSER", "w3m:lynx"}}) == argv_t{"w3m", url});
    CHECK(command(url, {{"BROWSER", ":: \t :lynx -dump %s:w3m"}}) == argv_t{"lynx", "-dump", url});
    // Only empty entries: as if BROWSER were unset.
    CHECK(command(url, {{"BROWSER", ": :"}, {"DISPLAY", ":0"}}) == argv_t{"xdg-open", url});
    CHECK_FALSE(command(url, {{"BROWSER", ""}}).has_value());
}

TEST_CASE("browser_command refuses a bad URL even when BROWSER is set", "[browser]") {
    CHECK_FALSE(command("javascript:alert(1)", {{"BROWSER", "firefox %s"}}).has_value());
    CHECK_FALSE(command("https://x y", {{"BROWSER", "firefox"}}).has_value());
}

TEST_CASE("browser_command uses open on macOS where BROWSER still wins", "[browser]") {
    CHECK(command(url, {}, browser_platform::macos) == argv_t{"open", url});
    CHECK(command(url, {{"BROWSER", "firefox"}}, browser_platform::macos) == argv_t{"firefox", url});
    CHECK_FALSE(command("file:///", {}, browser_platform::macos).has_value());
}

// ---------------------------------------------------------------- spawning

TEST_CASE("system_browser starts BROWSER with the URL as one argument and no shell", "[browser]") {
    temp_dir tmp;
    const fs::path out = tmp.path() / "argv.txt";
    const fs::path pwned = tmp.path() / "pwned";
    const fs::path script = tmp.path() / "browser.sh";
    {
        std::ofstream s(script);
        // Writes its arguments, then (on Linux) where its stdin/stdout/stderr
        // point, read before any redirection of its own.
        s << "#!/bin/sh\n"
#if defined(__linux__)
          << "fd0=$(readlink /proc/$$/fd/0); fd1=$(readlink /proc/$$/fd/1); "
             "fd2=$(readlink /proc/$$/fd/2)\n"
#endif
          << "{\n"
          << "  for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"
#if defined(__linux__)
          << "  echo \"fd0=$fd0\"; echo \"fd1=$fd1\"; echo \"fd2=$fd2\"\n"
#endif
          << "} > '" << out.string() << "'\n";
    }
    REQUIRE(::chmod(script.c_str(), 0700) == 0);
    // Shell syntax in the URL: a shell would run it; posix_spawnp passes it on as text.
    const std::string tricky = "https://example.com/device?c=1&x=$(touch${IFS}" + pwned.string() +
                               ");`touch${IFS}" + pwned.string() + "`";
    REQUIRE(devflow::detail::is_openable_url(tricky));

    auto exited = std::make_shared<std::promise<int>>();
    std::future<int> exit_status = exited->get_future();
    const devflow::system_browser browser(
        env({{"BROWSER", "sh " + script.string() + " --new-window %s"}}),
        [exited](int status) { exited->set_value(status); });

    REQUIRE(browser.open(tricky));
    CHECK(exit_status.get() == 0);  // blocks until the reaper thread has waited for it

    const std::vector<std::string> lines = read_lines(out);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0] == "--new-window");
    CHECK(lines[1] == tricky);
    CHECK_FALSE(fs::exists(pwned));
#if defined(__linux__)
    CHECK(lines == std::vector<std::string>{"--new-window", tricky, "fd0=/dev/null", "fd1=/dev/null",
                                            "fd2=/dev/null"});
#endif
}

TEST_CASE("system_browser reports false when the opener cannot be started", "[browser]") {
    temp_dir tmp;
    const devflow::system_browser browser(
        env({{"BROWSER", (tmp.path() / "no-such-browser").string()}}));
    CHECK_FALSE(browser.open(url));
}

TEST_CASE("system_browser reports false for a refused URL or a headless machine", "[browser]") {
    const devflow::system_browser headless(env({}));
    CHECK_FALSE(headless.open(url));
    const devflow::system_browser with_display(env({{"DISPLAY", ":0"}}));
    CHECK_FALSE(with_display.open("javascript:alert(1)"));
    CHECK_FALSE(with_display.open("file:///etc/passwd"));
}

TEST_CASE("no_browser never opens anything", "[browser]") {
    const devflow::no_browser browser;
    CHECK_FALSE(browser.open(url));
}

TEST_CASE("the browser inherits no descriptor but 0 to 2 and never the withheld variables "
          "(docs/security.md S11)",
          "[browser][security]") {
    temp_dir tmp;
    const fs::path out = tmp.path() / "child.txt";
    const fs::path script = tmp.path() / "browser.sh";
    {
        std::ofstream s(script);
        // Says which of the given descriptors it has open (a stat, which opens
        // nothing itself) and whether it sees the secret variable.
        s << "#!/bin/sh\n"
          << "{ for n in $DEVFLOW_TEST_FDS; do [ -e /proc/$$/fd/$n ] && echo \"fd $n\"; done\n"
          << "  [ -e /proc/$$/fd/2 ] && echo \"fd 2 is open\"\n"
          << "  echo \"secret=${DEVFLOW_TEST_CLIENT_SECRET:-unset}\"\n"
          << "  echo \"other=${DEVFLOW_TEST_OTHER:-unset}\"; } > '" << out.string() << "'\n";
    }
    REQUIRE(::chmod(script.c_str(), 0700) == 0);
    // What a transport leaves open without O_CLOEXEC: a socket and a file.
    const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int file_fd = ::open(script.c_str(), O_RDONLY);
    REQUIRE(socket_fd > 2);
    REQUIRE(file_fd > 2);
    ::setenv("DEVFLOW_TEST_CLIENT_SECRET", "CANARY-client-secret-in-env", 1);
    ::setenv("DEVFLOW_TEST_OTHER", "visible", 1);
    ::setenv("DEVFLOW_TEST_FDS", (std::to_string(socket_fd) + " " + std::to_string(file_fd)).c_str(), 1);

    auto exited = std::make_shared<std::promise<int>>();
    std::future<int> exit_status = exited->get_future();
    devflow::system_browser browser(env({{"BROWSER", "sh " + script.string()}}),
                                    [exited](int status) { exited->set_value(status); });
    browser.withhold_environment({"DEVFLOW_TEST_CLIENT_SECRET"});
    REQUIRE(browser.open(url));
    CHECK(exit_status.get() == 0);
    ::close(socket_fd);
    ::close(file_fd);
    ::unsetenv("DEVFLOW_TEST_CLIENT_SECRET");
    ::unsetenv("DEVFLOW_TEST_OTHER");
    ::unsetenv("DEVFLOW_TEST_FDS");

    const std::vector<std::string> lines = read_lines(out);
    REQUIRE_FALSE(lines.empty());
    for (const auto& line : lines) {
        INFO(line);
        CHECK(line != "fd " + std::to_string(socket_fd));
        CHECK(line != "fd " + std::to_string(file_fd));
    }
    CHECK(std::find(lines.begin(), lines.end(), "fd 2 is open") != lines.end());  // the check works
    CHECK(std::find(lines.begin(), lines.end(), "secret=unset") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "other=visible") != lines.end());
}
