// A hostile HTTP server on 127.0.0.1 for the transport fault matrix: raw
// POSIX sockets, so it can do what no well-behaved server library will
// (reset mid-answer, trickle, lie about lengths, skip the status line, never
// answer). Each accepted connection runs the scripted behaviour on its own
// thread; every wait is bounded and ends when the server is destroyed.
// Only the tests use this; it is not part of devflow.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace devflow_faults {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

/// One accepted connection, as a behaviour sees it. Every call is bounded in
/// time and returns early when the server stops or the peer goes away.
class connection {
public:
    connection(int fd, const std::atomic<bool>& stopping, std::function<void(std::string)> recorder)
        : fd_(fd), stopping_(stopping), record_(std::move(recorder)) {}
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() { close_now(); }

    /// Reads one request: the head, then as many body bytes as Content-Length
    /// says. Records it with the server and returns it ("" when the peer sent
    /// nothing in 2 s).
    std::string read_request() {
        std::string data;
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        std::size_t need = std::string::npos;
        while (std::chrono::steady_clock::now() < deadline && !stopping_) {
            if (need == std::string::npos) {
                const auto end = data.find("\r\n\r\n");
                if (end != std::string::npos) need = end + 4 + content_length(data.substr(0, end));
            }
            if (need != std::string::npos && data.size() >= need) break;
            if (!wait(POLLIN, 20ms)) continue;
            char buf[4096];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            data.append(buf, static_cast<std::size_t>(n));
        }
        if (!data.empty()) record_(data);
        return data;
    }

    /// Reads whatever arrives within `d` (for a TLS ClientHello, which is no HTTP).
    std::string read_some(ms d) {
        std::string data;
        if (wait(POLLIN, d)) {
            char buf[4096];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) data.append(buf, static_cast<std::size_t>(n));
        }
        return data;
    }

    /// Writes all of `bytes` (gives up after 3 s, or when the peer is gone).
    /// Returns false when not everything was written.
    bool send(std::string_view bytes) {
        const auto deadline = std::chrono::steady_clock::now() + 3s;
        while (!bytes.empty() && !stopping_ && std::chrono::steady_clock::now() < deadline) {
            if (!wait(POLLOUT, 20ms)) continue;
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return bytes.empty();
    }

    /// Writes `bytes` one byte per `gap`, for at most `limit`; then stops
    /// sending but keeps the connection open until the peer leaves.
    void trickle(std::string_view bytes, ms gap, ms limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        for (char c : bytes) {
            if (stopping_ || std::chrono::steady_clock::now() >= until || peer_closed()) return;
            if (!send(std::string_view(&c, 1))) return;
            sleep(gap);
        }
    }

    /// Does nothing for up to `d`, returning early when the peer closes.
    void hold(ms d) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (!stopping_ && std::chrono::steady_clock::now() < until && !peer_closed()) {
        }
    }

    /// Aborts the connection: SO_LINGER 0, so the peer gets a TCP RST.
    void reset() {
        if (fd_ < 0) return;
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd_);
        fd_ = -1;
    }

    /// Ends the connection cleanly: FIN, then close.
    void close_now() {
        if (fd_ < 0) return;
        ::shutdown(fd_, SHUT_WR);
        ::close(fd_);
        fd_ = -1;
    }

    /// Waits `d` (bounded by the server stopping).
    void sleep(ms d) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (!stopping_ && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                5ms, until - std::chrono::steady_clock::now()));
    }

private:
    static std::size_t content_length(std::string_view head) {
        std::string lower(head);
        for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
        const auto at = lower.find("\r\ncontent-length:");
        if (at == std::string::npos) return 0;
        std::size_t n = 0;
        for (std::size_t i = at + 17; i < lower.size() && lower[i] != '\r'; ++i)
            if (lower[i] >= '0' && lower[i] <= '9') n = n * 10 + std::size_t(lower[i] - '0');
        return n;
    }

    /// True when `events` is ready within `d`.
    bool wait(short events, ms d) {
        if (fd_ < 0) return false;
        pollfd p{fd_, events, 0};
        const int r = ::poll(&p, 1, static_cast<int>(d.count()));
        return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }

    /// True when the peer has closed (or reset) its side; waits up to 20 ms.
    bool peer_closed() {
        if (fd_ < 0) return true;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) return false;
        if ((p.revents & (POLLHUP | POLLERR)) != 0) return true;
        char c;
        const auto n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) return true;
        if (n > 0) {
            char sink[4096];  // more request bytes (a client reusing the connection): drop them
            (void)::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
        }
        return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
    }

    int fd_;
    const std::atomic<bool>& stopping_;
    std::function<void(std::string)> record_;
};

/// What a connection does, given the connection.
using behaviour = std::function<void(connection&)>;

/// A TCP server on 127.0.0.1 (kernel-chosen port) that runs `script` on every
/// accepted connection, each on its own thread, until destroyed.
class hostile_server {
public:
    explicit hostile_server(behaviour script) : script_(std::move(script)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) throw std::runtime_error("hostile_server: socket failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
            ::listen(listener_, 16) != 0) {
            ::close(listener_);
            throw std::runtime_error("hostile_server: cannot listen on 127.0.0.1");
        }
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    hostile_server(const hostile_server&) = delete;
    hostile_server& operator=(const hostile_server&) = delete;

    ~hostile_server() {
        stopping_ = true;
        acceptor_.join();
        std::vector<std::thread> workers;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            workers.swap(workers_);
        }
        for (auto& w : workers) w.join();
        ::close(listener_);
    }

    /// scheme://127.0.0.1:PORT + path.
    [[nodiscard]] std::string url(std::string_view path, std::string_view scheme = "http") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    /// The port it listens on.
    [[nodiscard]] int port() const { return port_; }

    /// Connections accepted so far.
    [[nodiscard]] int connections() const { return accepted_.load(); }

    /// Every request a behaviour read (head and body), in order.
    [[nodiscard]] std::vector<std::string> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }

private:
    void record(std::string request) {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(std::move(request));
    }

    void accept_loop() {
        while (!stopping_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            ++accepted_;
            std::lock_guard<std::mutex> lock(mutex_);
            workers_.emplace_back([this, fd] {
                connection c(fd, stopping_, [this](std::string r) { record(std::move(r)); });
                script_(c);
            });
        }
    }

    behaviour script_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    mutable std::mutex mutex_;
    std::vector<std::thread> workers_;
    std::vector<std::string> requests_;
};

}  // namespace devflow_faults
