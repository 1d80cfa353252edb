# Fails unless the project's version is the same everywhere it is written
# (run by the `packaging` tests with cmake -P): project(VERSION) in
# CMakeLists.txt (passed as VERSION), the DEVFLOW_VERSION_* macros of
# include/devflow/version.hpp, and a `## [VERSION]` entry in CHANGELOG.md.
#   -D SOURCE_DIR=<devflow checkout>  -D VERSION=<PROJECT_VERSION>
cmake_minimum_required(VERSION 3.21)

if(NOT VERSION MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)$")
    message(FATAL_ERROR "project(VERSION ${VERSION}) is not MAJOR.MINOR.PATCH")
endif()
set(expected_MAJOR "${CMAKE_MATCH_1}")
set(expected_MINOR "${CMAKE_MATCH_2}")
set(expected_PATCH "${CMAKE_MATCH_3}")
set(expected_STRING "\"${VERSION}\"")

file(STRINGS "${SOURCE_DIR}/include/devflow/version.hpp" defines REGEX "^#define DEVFLOW_VERSION_")
foreach(part IN ITEMS MAJOR MINOR PATCH STRING)
    set(value "")
    foreach(line IN LISTS defines)
        if(line MATCHES "^#define DEVFLOW_VERSION_${part}[ \t]+([^ \t]+)")
            set(value "${CMAKE_MATCH_1}")
        endif()
    endforeach()
    if(NOT value STREQUAL expected_${part})
        message(FATAL_ERROR "include/devflow/version.hpp: DEVFLOW_VERSION_${part} is '${value}', "
                            "but CMakeLists.txt says project(devflow VERSION ${VERSION})")
    endif()
endforeach()

file(READ "${SOURCE_DIR}/CHANGELOG.md" changelog)
string(REPLACE "." "\\." pattern "${VERSION}")
if(NOT changelog MATCHES "\n## \\[${pattern}\\]")
    message(FATAL_ERROR "CHANGELOG.md has no `## [${VERSION}]` entry for the project's version")
endif()
message("version ${VERSION}: CMakeLists.txt, version.hpp and CHANGELOG.md agree")
