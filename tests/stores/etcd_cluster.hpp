// A real etcd cluster for the etcd_store tests: three members (by default)
// on free 127.0.0.1 ports, data in a private temporary directory, started
// with fork + execve and stopped by PID (tests/integration/support/child_process.hpp).
#pragma once

#include "child_process.hpp"
#include "temp_dir.hpp"

#include <devflow/adapters/httplib_http.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace devflow_test {

/// A TCP port on 127.0.0.1 that was free a moment ago.
inline int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("free_loopback_port: socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw std::runtime_error("free_loopback_port: bind failed");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

/// The etcd binary the tests run (Debian: etcd-server).
inline std::string etcd_program() {
    if (const auto found = find_program("etcd")) return *found;
    throw std::runtime_error("the etcd tests need the etcd server (apt-get install etcd-server)");
}

class etcd_cluster {
public:
    /// Starts `members` members, each with `extra_flags` (e.g.
    /// {"--auth-token-ttl", "1"}), and waits until the cluster has a leader.
    explicit etcd_cluster(std::size_t members = 3, std::vector<std::string> extra_flags = {})
        : dir_("devflow-etcd"), extra_flags_(std::move(extra_flags)) {
        std::string initial;
        for (std::size_t i = 0; i < members; ++i) {
            member m;
            m.name = "m" + std::to_string(i);
            m.client_port = free_loopback_port();
            m.peer_port = free_loopback_port();
            if (!initial.empty()) initial += ",";
            initial += m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
            members_.push_back(std::move(m));
        }
        initial_cluster_ = initial;
        for (std::size_t i = 0; i < members; ++i) start_member(i);
        wait_until_ready();
    }

    /// The members' client URLs, in order.
    [[nodiscard]] std::vector<std::string> endpoints() const {
        std::vector<std::string> out;
        for (const auto& m : members_) out.push_back(client_url(m));
        return out;
    }

    /// The private directory the members keep their data in.
    [[nodiscard]] const std::filesystem::path& directory() const { return dir_.path(); }

    /// Starts member `i` (again: with its data directory, it rejoins).
    void start_member(std::size_t i) {
        member& m = members_.at(i);
        const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
        child_options o;
        o.argv = {etcd_program(),
                  "--name", m.name,
                  "--data-dir", (dir_.path() / m.name).string(),
                  "--listen-client-urls", client_url(m),
                  "--advertise-client-urls", client_url(m),
                  "--listen-peer-urls", peer,
                  "--initial-advertise-peer-urls", peer,
                  "--initial-cluster", initial_cluster_,
                  "--initial-cluster-state", "new",
                  "--initial-cluster-token", "devflow-test-" + std::to_string(::getpid()),
                  "--heartbeat-interval", "50",
                  "--election-timeout", "500",
                  "--log-level", "error"};
        o.argv.insert(o.argv.end(), extra_flags_.begin(), extra_flags_.end());
        o.stderr_file = (dir_.path() / (m.name + ".log")).string();
        m.process = std::make_unique<child_process>(o);
    }

    /// Kills member `i` with SIGKILL and waits for it to end.
    void kill_member(std::size_t i) {
        member& m = members_.at(i);
        if (!m.process) return;
        ::kill(m.process->pid(), SIGKILL);
        (void)m.process->wait_for(std::chrono::seconds{5});
        m.process.reset();
    }

    /// Kills every member.
    void kill_all() {
        for (std::size_t i = 0; i < members_.size(); ++i) kill_member(i);
    }

    /// Starts every stopped member and waits until the cluster has a leader.
    void restart_all() {
        for (std::size_t i = 0; i < members_.size(); ++i)
            if (!members_[i].process) start_member(i);
        wait_until_ready();
    }

    /// The index of the current leader (asked of the members that run).
    [[nodiscard]] std::size_t leader() {
        for (std::size_t attempt = 0; attempt < 100; ++attempt) {
            for (std::size_t i = 0; i < members_.size(); ++i) {
                if (!members_[i].process) continue;
                const auto status = post(i, "/v3/maintenance/status", "{}");
                const auto member_id = field(status, "member_id");
                const auto leader_id = field(status, "leader");
                if (!member_id.empty() && member_id == leader_id) return i;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{100});
        }
        throw std::runtime_error("etcd_cluster: no leader found");
    }

    /// Waits until a running member answers a read through the cluster (it has a leader).
    void wait_until_ready() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
        while (std::chrono::steady_clock::now() < deadline) {
            for (std::size_t i = 0; i < members_.size(); ++i) {
                if (!members_[i].process) continue;
                const std::string health = get(i, "/health");
                if (health.find("\"health\":\"true\"") != std::string::npos) return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{100});
        }
        throw std::runtime_error("etcd_cluster: the cluster did not become ready in 30 s (logs in " +
                                 dir_.path().string() + ")");
    }

    /// Enables authentication with a root user whose password is `password`.
    void enable_auth(const std::string& password) {
        etcdctl({"user", "add", "root", "--new-user-password=" + password});
        etcdctl({"auth", "enable"});
    }

    ~etcd_cluster() { kill_all(); }

private:
    struct member {
        std::string name;
        int client_port = 0;
        int peer_port = 0;
        std::unique_ptr<child_process> process;
    };

    static std::string client_url(const member& m) { return "http://127.0.0.1:" + std::to_string(m.client_port); }

    void etcdctl(std::vector<std::string> args) {
        child_options o;
        o.argv = {"etcdctl", "--endpoints=" + endpoints().front(), "--dial-timeout=5s"};
        for (auto& a : args) o.argv.push_back(std::move(a));
        o.env = {{"ETCDCTL_API", "3"}};
        child_process run(o);
        const auto status = run.wait_for(std::chrono::seconds{20});
        if (!status || *status != 0) throw std::runtime_error("etcd_cluster: an etcdctl command failed");
    }

    std::string get(std::size_t i, const std::string& path) {
        devflow::http_request r;
        r.method = devflow::http_method::get;
        r.url = client_url(members_[i]) + path;
        return exchange(r);
    }

    std::string post(std::size_t i, const std::string& path, const std::string& body) {
        devflow::http_request r;
        r.url = client_url(members_[i]) + path;
        r.headers.push_back({"content-type", devflow::secret("application/json")});
        r.body = devflow::secret(body);
        return exchange(r);
    }

    static std::string exchange(const devflow::http_request& r) {
        devflow::httplib_http::options o;
        o.connect_timeout = std::chrono::milliseconds{500};
        o.total_timeout = std::chrono::seconds{2};
        devflow::httplib_http http(o);
        const devflow::http_response answer = http.send(r);
        return answer && answer.status == 200 ? answer.body.reveal() : std::string{};
    }

    /// The value of a "name":"value" member anywhere in `json` (enough for status answers).
    static std::string field(const std::string& json, const std::string& name) {
        const std::string marker = "\"" + name + "\":\"";
        const auto at = json.find(marker);
        if (at == std::string::npos) return {};
        const auto end = json.find('"', at + marker.size());
        return json.substr(at + marker.size(), end - at - marker.size());
    }

    temp_dir dir_;
    std::vector<std::string> extra_flags_;
    std::string initial_cluster_;
    std::vector<member> members_;
};

}  // namespace devflow_test
