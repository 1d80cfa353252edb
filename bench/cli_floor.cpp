// The floor of a warm `devflow token` (bench/cli_token.sh): a C++ program
// that does only what must be done to hand over a cached token — read the
// same record file, parse it with the same JSON library, print the access
// token — and nothing devflow adds (arguments, settings, file checks,
// locking, expiry).
//
//   devflow_bench_cli_floor RECORD_FILE
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fputs("usage: devflow_bench_cli_floor RECORD_FILE\n", stderr);
        return 2;
    }
    const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    std::string bytes;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto record = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    const auto token = record.find("access_token");
    if (token == record.end() || !token->is_string()) return 1;
    const std::string line = token->get<std::string>() + "\n";
    return ::write(STDOUT_FILENO, line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? 0 : 1;
}
