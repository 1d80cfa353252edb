// Self-signed certificates made at test time with the openssl command, in a
// private temporary directory removed on destruction. Only the tests use this.
#pragma once

#include "temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace devflow_test {

/// A self-signed EC certificate and its key, valid for the given
/// subjectAltName (e.g. "IP:127.0.0.1"), with a hashed CA directory
/// (`openssl rehash`) that trusts it.
class test_certificate {
public:
    explicit test_certificate(const std::string& subject_alt_name) {
        std::filesystem::create_directory(dir_.path() / "ca");
        cert_ = (dir_.path() / "ca" / "cert.pem").string();
        key_ = (dir_.path() / "key.pem").string();
        const std::string make =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            " -days 2 -subj /CN=devflow-test -addext subjectAltName=" + subject_alt_name +
            " -keyout '" + key_ + "' -out '" + cert_ + "' >/dev/null 2>&1";
        if (std::system(make.c_str()) != 0)
            throw std::runtime_error("test_certificate: `openssl req` failed (is openssl installed?)");
        const std::string rehash =
            "openssl rehash '" + (dir_.path() / "ca").string() + "' >/dev/null 2>&1";
        if (std::system(rehash.c_str()) != 0)
            throw std::runtime_error("test_certificate: `openssl rehash` failed");
    }

    /// The certificate, PEM (also the CA file that trusts it).
    [[nodiscard]] const std::string& cert_file() const noexcept { return cert_; }
    /// The private key, PEM.
    [[nodiscard]] const std::string& key_file() const noexcept { return key_; }
    /// A directory of hashed CA certificates holding only this certificate.
    [[nodiscard]] std::string ca_dir() const { return (dir_.path() / "ca").string(); }

private:
    temp_dir dir_;
    std::string cert_;
    std::string key_;
};

}  // namespace devflow_test
