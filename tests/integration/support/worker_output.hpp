// The output of the cross-process scenarios' workers (cross_process_test.cpp,
// etcd_fleet_test.cpp): each writes DIR/worker<i>.out and DIR/worker<i>.err.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace devflow_test {

/// Where worker `i` writes its stdout (".out") or stderr (".err").
inline std::filesystem::path worker_file(const std::filesystem::path& dir, int i, const char* ext) {
    return dir / ("worker" + std::to_string(i) + ext);
}

/// What worker `i` wrote to stdout, then stderr.
inline std::string worker_output(const std::filesystem::path& dir, int i) {
    std::string output;
    for (const char* ext : {".out", ".err"}) {
        std::ifstream in(worker_file(dir, i, ext));
        std::stringstream s;
        s << in.rdbuf();
        output += s.str();
    }
    return output;
}

}  // namespace devflow_test
