// devflow CLI — stderr while the flow runs: the prompt (plain or drawn for a
// terminal), warnings, and a countdown line redrawn every second by a
// thread while the user is away at the browser (terminals only).
#pragma once

#include "terminal.hpp"

#include <devflow/types.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

namespace devflow::cli {

/// Writes the tool's stderr output; one instance per run. Thread-safe.
class terminal_ui {
public:
    /// Makes a QR code's text for a URL ("" when there is none).
    using qr_maker = std::function<std::string(std::string_view url)>;

    /// `fancy`: stderr is a terminal (draw, and count down); `color`: ANSI
    /// attributes allowed; `verbose`: show info lines too; `qr`: may be empty.
    terminal_ui(bool fancy, bool color, int columns, bool verbose, qr_maker qr)
        : fancy_(fancy), color_(color), columns_(columns), verbose_(verbose), qr_(std::move(qr)) {}

    terminal_ui(const terminal_ui&) = delete;
    terminal_ui& operator=(const terminal_ui&) = delete;
    ~terminal_ui() { finish(); }

    /// Shows how to sign in, then (on a terminal) starts the countdown.
    void prompt(const prompt_info& p) {
        finish();
        std::string text;
        if (fancy_) {
            fancy_options o;
            o.color = color_;
            o.columns = columns_;
            if (qr_ && !p.verification_uri_complete.empty()) o.qr = qr_(p.verification_uri_complete);
            text = fancy_prompt(p, o);
        } else {
            text = plain_prompt(p);
        }
        {
            std::lock_guard lock(mutex_);
            prompted_ = true;
            write(text);
        }
        if (fancy_) {
            deadline_ = p.expires_at;
            countdown_ = std::jthread([this](std::stop_token stop) { count_down(stop); });
        }
    }

    /// A diagnostic from the flow or the store: warnings always, the rest
    /// with --verbose. Never given a secret (the library's guarantee).
    void log(log_level level, std::string_view message) {
        if (level != log_level::warning && !verbose_) return;
        std::string line = level == log_level::warning ? "devflow: warning: " : "devflow: ";
        line += one_line(message, 600);
        line += '\n';
        std::lock_guard lock(mutex_);
        clear_line();
        write(line);
        draw_countdown();
    }

    /// A line saying a command went well (already prefixed, ending in
    /// '\n'); left out with --quiet.
    void note(std::string_view line) {
        if (!quiet_) say(line);
    }

    /// Leaves out the lines note() is given (--quiet).
    void set_quiet(bool quiet) noexcept { quiet_ = quiet; }

    /// A line of the tool's own (already prefixed, ending in '\n').
    void say(std::string_view line) {
        std::lock_guard lock(mutex_);
        clear_line();
        write(line);
        draw_countdown();
    }

    /// Stops the countdown and clears its line.
    void finish() {
        if (countdown_.joinable()) {
            countdown_.request_stop();
            countdown_.join();
        }
        std::lock_guard lock(mutex_);
        clear_line();
    }

    /// True once a prompt has been shown (the device flow ran).
    [[nodiscard]] bool prompted() const {
        std::lock_guard lock(mutex_);
        return prompted_;
    }

private:
    void count_down(std::stop_token stop) {
        std::mutex m;
        std::condition_variable_any wake;
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                counting_ = true;
                draw_countdown();
            }
            // Wake on the next whole second of the countdown.
            const auto left = deadline_ - std::chrono::steady_clock::now();
            auto step = left % std::chrono::seconds{1};
            if (step <= std::chrono::steady_clock::duration::zero()) step += std::chrono::seconds{1};
            std::unique_lock lock(m);
            if (wake.wait_for(lock, stop, step, [] { return false; }) || stop.stop_requested()) break;
        }
        std::lock_guard lock(mutex_);
        clear_line();
        counting_ = false;
    }

    // The callers hold mutex_.
    void draw_countdown() {
        if (!counting_) return;
        const auto left = std::chrono::ceil<std::chrono::seconds>(deadline_ -
                                                                 std::chrono::steady_clock::now());
        std::string line = "\r\033[K  ";
        line += color_ ? "\033[2m" + countdown_text(left) + "\033[0m" : countdown_text(left);
        write(line);
        line_shown_ = true;
    }
    void clear_line() {
        if (!line_shown_) return;
        write("\r\033[K");
        line_shown_ = false;
    }
    static void write(std::string_view s) {
        std::fwrite(s.data(), 1, s.size(), stderr);
        std::fflush(stderr);
    }

    const bool fancy_;
    const bool color_;
    const int columns_;
    const bool verbose_;
    bool quiet_ = false;
    qr_maker qr_;
    mutable std::mutex mutex_;
    bool prompted_ = false;
    bool counting_ = false;
    bool line_shown_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::jthread countdown_;
};

}  // namespace devflow::cli
