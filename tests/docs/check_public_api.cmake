# Fails when the devflow command-line tool (tools/devflow) reaches into the
# library's private parts: a `detail::` name or a `devflow/detail/` or
# `adapters/detail/` include. The tool is a user of the public API like any
# other (docs/design.md); what it needs from detail/ belongs in a public header.
#
#   cmake -D SOURCE_DIR=<repo> -P tests/docs/check_public_api.cmake
cmake_minimum_required(VERSION 3.21)
if(NOT SOURCE_DIR)
    message(FATAL_ERROR "check_public_api: pass -D SOURCE_DIR=<the repository>")
endif()
file(GLOB_RECURSE sources "${SOURCE_DIR}/tools/devflow/*.hpp" "${SOURCE_DIR}/tools/devflow/*.cpp")
if(NOT sources)
    message(FATAL_ERROR "check_public_api: no sources under ${SOURCE_DIR}/tools/devflow")
endif()
set(found "")
foreach(source IN LISTS sources)
    file(STRINGS "${source}" lines REGEX "detail::|/detail/")
    foreach(line IN LISTS lines)
        string(STRIP "${line}" line)
        file(RELATIVE_PATH name "${SOURCE_DIR}" "${source}")
        string(APPEND found "  ${name}: ${line}\n")
    endforeach()
endforeach()
if(found)
    message(FATAL_ERROR "check_public_api: the CLI uses the library's private parts:\n${found}")
endif()
list(LENGTH sources count)
message(STATUS "check_public_api: the CLI's ${count} files use only the public API")
