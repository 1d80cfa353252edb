// devflow_integration_worker: one of the processes of the cross-process
// scenarios (tests/integration/cross_process_test.cpp, etcd_fleet_test.cpp).
// It builds a flow on a shared file_store directory, or on a sealed_store
// over an etcd_store (--etcd, a machine of a fleet that shares no file),
// calls authorization_header() every 20 ms until a wall-clock time, then
// shows its last header to the userinfo endpoint. Never interactive
// (on_session_end::raise): it only uses the stored session.
//
//   devflow_integration_worker --adapter curl|httplib
//       (--store DIR | --etcd URL [--etcd URL ...] --prefix P --key-file F)
//       --issuer URL --device-endpoint URL --token-endpoint URL --userinfo URL
//       --client-id ID --scope S [--scope S ...] --until-ms UNIX_MS
//
// stdout: one line "calls=N tokens=M userinfo=STATUS" (counts only, never a
// token). Exit 0 when every call succeeded and userinfo answered 200; 1 on a
// devflow::error (its code and what(), which never hold a secret); 2 on bad
// arguments; 3 when userinfo refused the last header.
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/etcd_store.hpp>
#include <devflow/adapters/httplib_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/adapters/sealed_store.hpp>
#include <devflow/device_flow.hpp>
#include <devflow/file_store.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

/// A fleet machine's store: sealed records on etcd (spoken through libcurl).
using fleet_store = devflow::sealed_store<devflow::etcd_store<devflow::curl_http>>;

struct arguments {
    std::string adapter;
    std::string store;
    devflow::etcd_options etcd;
    std::string key_file;
    std::string userinfo;
    std::int64_t until_ms = 0;
    devflow::client_config config;
};

bool parse(int argc, char** argv, arguments& a) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view name = argv[i];
        const std::string value = argv[i + 1];
        if (name == "--adapter") a.adapter = value;
        else if (name == "--store") a.store = value;
        else if (name == "--etcd") a.etcd.endpoints.push_back(value);
        else if (name == "--prefix") a.etcd.prefix = value;
        else if (name == "--key-file") a.key_file = value;
        else if (name == "--issuer") a.config.issuer = value;
        else if (name == "--device-endpoint") a.config.device_authorization_endpoint = value;
        else if (name == "--token-endpoint") a.config.token_endpoint = value;
        else if (name == "--userinfo") a.userinfo = value;
        else if (name == "--client-id") a.config.client_id = value;
        else if (name == "--scope") a.config.scopes.push_back(value);
        else if (name == "--until-ms") a.until_ms = std::strtoll(value.c_str(), nullptr, 10);
        else return false;
    }
    const bool on_etcd = !a.etcd.endpoints.empty() && !a.key_file.empty();
    return argc % 2 == 1 && (a.store.empty() != !on_etcd) && !a.userinfo.empty() && a.until_ms > 0 &&
           (a.adapter == "curl" || a.adapter == "httplib");
}

template <class Http, class Store>
int run(const arguments& a, Store store) {
    devflow::client_config cfg = a.config;
    cfg.session_end = devflow::on_session_end::raise;
    devflow::device_flow<Http, devflow::nlohmann_json, Store, devflow::system_clock, devflow::no_browser>
        flow(cfg, Http{}, {}, std::move(store));
    flow.on_log([](devflow::log_level level, std::string_view message) {
        if (level == devflow::log_level::warning)
            std::fprintf(stderr, "worker: warning: %.*s\n", static_cast<int>(message.size()), message.data());
    });
    const std::chrono::system_clock::time_point until{std::chrono::milliseconds{a.until_ms}};
    std::set<std::size_t> seen;  // hashes of the headers seen: how many tokens, not which
    long calls = 0;
    std::string header;
    try {
        do {
            header = flow.authorization_header();
            seen.insert(std::hash<std::string>{}(header));
            ++calls;
            std::this_thread::sleep_for(std::chrono::milliseconds{20});
        } while (std::chrono::system_clock::now() < until);
    } catch (const devflow::error& e) {
        std::fprintf(stderr, "worker: devflow error after %ld calls: %s (%s)\n", calls,
                     e.code().message().c_str(), e.what());
        return 1;
    }
    Http http;
    devflow::http_request req;
    req.method = devflow::http_method::get;
    req.url = a.userinfo;
    req.headers.push_back({"authorization", devflow::secret{header}});
    const devflow::http_response resp = http.send(req);
    std::printf("calls=%ld tokens=%zu userinfo=%d\n", calls, seen.size(), resp.status);
    return resp.status == 200 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
    arguments a;
    if (!parse(argc, argv, a)) {
        std::fprintf(stderr, "usage: devflow_integration_worker --adapter curl|httplib (--store DIR | "
                             "--etcd URL... --prefix P --key-file F) --issuer URL --device-endpoint URL --token-endpoint URL --userinfo URL "
                             "--client-id ID --scope S... --until-ms UNIX_MS\n");
        return 2;
    }
    try {
        if (!a.etcd.endpoints.empty()) {
            devflow::etcd_options etcd = a.etcd;
            etcd.lease_ttl = std::chrono::seconds{3};  // a killed machine frees the lock soon
            fleet_store store(devflow::etcd_store<devflow::curl_http>(devflow::curl_http{}, etcd),
                              fleet_store::read_key_file(a.key_file));
            return a.adapter == "curl" ? run<devflow::curl_http>(a, std::move(store))
                                       : run<devflow::httplib_http>(a, std::move(store));
        }
        devflow::file_store files(a.store);
        return a.adapter == "curl" ? run<devflow::curl_http>(a, files) : run<devflow::httplib_http>(a, files);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "worker: %s\n", e.what());
        return 1;
    }
}
