// Local servers for the transport tests: a cpp-httplib server (http or https)
// on 127.0.0.1 with an ephemeral port in a background thread, a socket that
// accepts connections but never answers, and a port that refuses them.
// Only the tests use these; they are not part of devflow.
#pragma once

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace devflow_test {

/// What the server saw of one request.
struct seen_request {
    std::string method;
    std::string target;  ///< path and query as sent
    std::string body;
    httplib::Headers headers;  ///< case-insensitive lookup
    int remote_port = -1;      ///< the client's port: equal ports mean a reused connection

    /// The value of header `name`, or "" when absent.
    [[nodiscard]] std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
    /// How many headers called `name` arrived.
    [[nodiscard]] std::size_t header_count(const std::string& name) const {
        return headers.count(name);
    }
};

/// A cpp-httplib server on 127.0.0.1, on a port the kernel chooses, serving in
/// a background thread from construction to destruction. Every request that
/// reaches a route is recorded. Declare clients after the server so that
/// they close their kept-alive connections before it stops.
class local_http_server {
public:
    /// Routes are registered by `routes` before the server starts.
    explicit local_http_server(const std::function<void(httplib::Server&)>& routes)
        : local_http_server(std::make_unique<httplib::Server>(), "http", routes) {}

    /// An https server with the given PEM certificate and key.
    local_http_server(const std::string& cert_file, const std::string& key_file,
                      const std::function<void(httplib::Server&)>& routes)
        : local_http_server(std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str()),
                            "https", routes) {}

    local_http_server(const local_http_server&) = delete;
    local_http_server& operator=(const local_http_server&) = delete;

    ~local_http_server() {
        // stop() is a no-op until the thread has entered its accept loop.
        while (!server_->is_running()) std::this_thread::yield();
        server_->stop();
        thread_.join();
    }

    /// The port the server listens on.
    [[nodiscard]] int port() const noexcept { return port_; }

    /// "http://127.0.0.1:PORT" + path (or https).
    [[nodiscard]] std::string url(std::string_view path) const {
        return scheme_ + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    /// Every recorded request so far, oldest first.
    [[nodiscard]] std::vector<seen_request> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }

private:
    local_http_server(std::unique_ptr<httplib::Server> server, std::string scheme,
                      const std::function<void(httplib::Server&)>& routes)
        : server_(std::move(server)), scheme_(std::move(scheme)) {
        if (!server_->is_valid()) throw std::runtime_error("local_http_server: invalid server setup");
        server_->set_keep_alive_timeout(1);
        // Runs after the route (the body has been read), before the answer is written.
        server_->set_post_routing_handler([this](const httplib::Request& req, httplib::Response&) {
            seen_request s;
            s.method = req.method;
            s.target = req.target;
            s.body = req.body;
            s.headers = req.headers;
            s.remote_port = req.remote_port;
            std::lock_guard<std::mutex> lock(mutex_);
            seen_.push_back(std::move(s));
        });
        routes(*server_);
        // bind_to_any_port also listens: connections queue from here on.
        port_ = server_->bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("local_http_server: cannot bind 127.0.0.1");
        thread_ = std::thread([this] { server_->listen_after_bind(); });
    }

    std::unique_ptr<httplib::Server> server_;
    std::string scheme_;
    int port_ = -1;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<seen_request> seen_;
};

/// A TCP socket on 127.0.0.1 that is either listening but never accepts (the
/// kernel completes the handshake, nobody ever answers) or bound but not
/// listening (every connection is refused, and no other process can take
/// the port while it lives).
class raw_port {
public:
    /// What the port does with connections.
    enum class mode { silent, refusing };

    explicit raw_port(mode m) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("raw_port: socket failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
            (m == mode::silent && ::listen(fd_, 16) != 0)) {
            ::close(fd_);
            throw std::runtime_error("raw_port: cannot bind 127.0.0.1");
        }
        port_ = ntohs(addr.sin_port);
    }
    raw_port(const raw_port&) = delete;
    raw_port& operator=(const raw_port&) = delete;
    ~raw_port() { ::close(fd_); }

    /// The bound port.
    [[nodiscard]] int port() const noexcept { return port_; }

    /// The socket.
    [[nodiscard]] int fd() const noexcept { return fd_; }

    /// scheme + "://127.0.0.1:PORT" + path.
    [[nodiscard]] std::string url(std::string_view scheme, std::string_view path) const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

private:
    int fd_ = -1;
    int port_ = 0;
};

/// A server on 127.0.0.1 that answers every connection with the same raw
/// bytes (for answers cpp-httplib's server cannot produce, such as interim
/// 1xx blocks), until it is destroyed. It reads the request head first.
class canned_server {
public:
    explicit canned_server(std::string answer) : answer_(std::move(answer)) {
        thread_ = std::thread([this] { serve(); });
    }
    canned_server(const canned_server&) = delete;
    canned_server& operator=(const canned_server&) = delete;
    ~canned_server() {
        stopping_ = true;
        ::shutdown(listener_.fd(), SHUT_RDWR);  // wakes accept()
        thread_.join();
    }

    /// "http://127.0.0.1:PORT" + path.
    [[nodiscard]] std::string url(std::string_view path) const { return listener_.url("http", path); }

private:
    struct listening : raw_port {
        listening() : raw_port(mode::silent) {}
    };

    void serve() {
        while (!stopping_) {
            const int fd = ::accept(listener_.fd(), nullptr, nullptr);
            if (fd < 0) return;
            std::string head;
            char buf[4096];
            while (head.find("\r\n\r\n") == std::string::npos) {
                const auto n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0) break;
                head.append(buf, static_cast<std::size_t>(n));
            }
            std::size_t sent = 0;
            while (sent < answer_.size()) {
                const auto n = ::send(fd, answer_.data() + sent, answer_.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            ::shutdown(fd, SHUT_WR);
            while (::recv(fd, buf, sizeof buf, 0) > 0) {
            }  // until the client closes
            ::close(fd);
        }
    }

    std::string answer_;
    listening listener_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace devflow_test
