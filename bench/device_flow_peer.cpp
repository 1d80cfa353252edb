// devflow's side of the side-by-side benchmark (bench/peer.sh): one device
// flow against a real server with curl_http + nlohmann_json + memory_store,
// reporting on stdout, one JSON object a line, when the user code was shown
// and when the tokens arrived (wall clock, ms since the epoch), and the peak
// resident memory. The token itself is never printed: only its length.
//
//     devflow_bench_device_flow_peer --device-endpoint URL --token-endpoint URL
//         --client-id ID [--scope S] [--issuer URL] [--clock-scale F]
//
// --clock-scale 0.9 plays a client whose clock runs 10% fast: every wait
// lasts 0.9 of what the flow asked for (the "fast VM clock" case of docs/design.md §2).
#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/nlohmann_json.hpp>
#include <devflow/device_flow.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace {

/// The system clock, but every wait lasts `scale` of what was asked.
class scaled_clock {
public:
    explicit scaled_clock(double scale = 1.0) : scale_(scale) {}
    [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept {
        return clock_.now();
    }
    [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const noexcept {
        return clock_.steady_now();
    }
    bool sleep_for(std::chrono::steady_clock::duration d, std::stop_token stop) const {
        const auto scaled = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double, std::chrono::steady_clock::period>(
                static_cast<double>(d.count()) * scale_));
        return clock_.sleep_for(scaled, std::move(stop));
    }

private:
    devflow::system_clock clock_;
    double scale_;
};

long long epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Peak resident set size of this process, in KiB (VmHWM), or -1.
long vm_hwm_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

/// JSON string literal for a value that holds no secret (URLs, codes shown to the user).
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
    devflow::client_config config;
    double scale = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view name = argv[i];
        const std::string value = argv[i + 1];
        if (name == "--device-endpoint") config.device_authorization_endpoint = value;
        else if (name == "--token-endpoint") config.token_endpoint = value;
        else if (name == "--issuer") config.issuer = value;
        else if (name == "--client-id") config.client_id = value;
        else if (name == "--scope") config.scopes.push_back(value);
        else if (name == "--clock-scale") scale = std::stod(value);
        else {
            std::cerr << "device_flow_peer: unknown option " << name << "\n";
            return 2;
        }
    }
    try {
        devflow::device_flow<devflow::curl_http, devflow::nlohmann_json, devflow::memory_store,
                             scaled_clock, devflow::no_browser>
            flow(config, devflow::curl_http{}, devflow::nlohmann_json{}, devflow::memory_store{},
                 scaled_clock{scale}, devflow::no_browser{});
        flow.on_prompt([](const devflow::prompt_info& p) {
            std::cout << R"({"event":"prompt","t_ms":)" << epoch_ms()
                      << R"(,"verification_uri_complete":)"
                      << json_string(p.verification_uri_complete)
                      << R"(,"user_code":)" << json_string(p.user_code) << "}" << std::endl;
        });
        flow.on_log([](devflow::log_level level, std::string_view line) {
            if (level != devflow::log_level::debug) std::cerr << "devflow: " << line << "\n";
        });
        const devflow::token_set tokens = flow.login();
        const long long t = epoch_ms();
        std::cout << R"({"event":"token","t_ms":)" << t << R"(,"access_token_bytes":)"
                  << tokens.access_token.size() << R"(,"vm_hwm_kib":)" << vm_hwm_kib() << "}"
                  << std::endl;
        return 0;
    } catch (const devflow::error& e) {
        std::cerr << "device_flow_peer: " << e.what() << "\n";
        return 1;
    }
}
