// A generated table kept in a document (docs/fault-matrix.md): the test that
// owns the table checks the document shows it exactly, between its markers,
// and rewrites it when DEVFLOW_UPDATE_FAULT_MATRIX_DOC is set.
#pragma once

#include "catch.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace devflow_test {

/// Checks that `doc` shows `expected` between the lines `<!-- NAME:begin -->`
/// and `<!-- NAME:end -->` (NAME is `marker`).
inline void check_doc_table(const std::filesystem::path& doc, const std::string& marker,
                            const std::string& expected) {
    const std::string begin = "<!-- " + marker + ":begin -->\n";
    const std::string end = "<!-- " + marker + ":end -->";
    std::string text;
    {
        std::ifstream in(doc, std::ios::binary);
        REQUIRE(in.good());
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto b = text.find(begin);
    const auto e = text.find(end);
    REQUIRE(b != std::string::npos);
    REQUIRE(e != std::string::npos);
    const std::string shown = text.substr(b + begin.size(), e - b - begin.size());
    if (shown != expected && std::getenv("DEVFLOW_UPDATE_FAULT_MATRIX_DOC") != nullptr) {
        text.replace(b + begin.size(), e - b - begin.size(), expected);
        std::ofstream(doc, std::ios::trunc | std::ios::binary) << text;
        WARN(doc.string() << " updated from the table");
        return;
    }
    INFO("regenerate with DEVFLOW_UPDATE_FAULT_MATRIX_DOC=1; the table should read:\n" << expected);
    CHECK(shown == expected);
}

}  // namespace devflow_test
