// Where the tool looks for its module: beside it (a build tree), then in
// LIBDIR/devflow relative to it (an installed copy).
#include "catch.hpp"

#include "transport.hpp"

TEST_CASE("the module is looked for beside the tool, then in the library directory",
          "[cli][module]") {
    const auto c = devflow::cli::module_candidates("/usr/bin/devflow", "../lib/x86_64-linux-gnu/devflow");
    REQUIRE(c.size() == 2);
    CHECK(c[0] == "/usr/bin/devflow-cli-module.so");
    CHECK(c[1] == "/usr/lib/x86_64-linux-gnu/devflow/devflow-cli-module.so");
    const auto build = devflow::cli::module_candidates("/src/build/gcc/tools/devflow", "../lib/devflow");
    CHECK(build[0] == "/src/build/gcc/tools/devflow-cli-module.so");
}

TEST_CASE("a module of another build is told apart", "[cli][module]") {
    const std::string id = devflow::cli::module_build_id();
    CHECK(id.rfind("devflow " DEVFLOW_VERSION_STRING " module 1 ", 0) == 0);
    CHECK(id == devflow::cli::module_build_id());
}
