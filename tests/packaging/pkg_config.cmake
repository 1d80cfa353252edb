# Builds and runs the consumer program with nothing but pkg-config and the
# compiler, against an installed devflow (run by the `packaging` tests with
# cmake -P).
#
#   -D PREFIX=<install prefix>  -D BINARY=<build dir>  -D SOURCE=<main.cpp>
#   -D CXX_COMPILER=...  -D PKG_CONFIG=...  -D EXPECTED_VERSION=...
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE "${BINARY}")
file(MAKE_DIRECTORY "${BINARY}")
# Only the prefix: a devflow.pc elsewhere on the machine must not answer.
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")

function(pkg_config out_var)
    execute_process(COMMAND "${PKG_CONFIG}" ${ARGN}
                    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE error
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "pkg-config ${ARGN} failed:\n${output}${error}")
    endif()
    set(${out_var} "${output}" PARENT_SCOPE)
endfunction()

pkg_config(version --modversion devflow)
if(NOT version STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "pkg-config says devflow ${version}; the project is ${EXPECTED_VERSION}")
endif()
pkg_config(includedir --variable=includedir devflow)
if(NOT EXISTS "${includedir}/devflow/device_flow.hpp")
    message(FATAL_ERROR "devflow.pc's includedir ${includedir} holds no devflow/device_flow.hpp")
endif()

pkg_config(cflags --cflags devflow nlohmann_json libcurl)
pkg_config(libs --libs devflow nlohmann_json libcurl)
separate_arguments(cflags UNIX_COMMAND "${cflags}")
separate_arguments(libs UNIX_COMMAND "${libs}")
set(command "${CXX_COMPILER}" -std=c++20 -Wall -Wextra -Wpedantic -Werror ${cflags}
            "-DDEVFLOW_EXPECTED_VERSION=\"${EXPECTED_VERSION}\""
            "${SOURCE}" -o "${BINARY}/consumer" ${libs})
execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    string(REPLACE ";" " " shown "${command}")
    message(FATAL_ERROR "compiling with pkg-config's flags failed:\n${shown}\n${output}")
endif()

execute_process(COMMAND "${BINARY}/consumer"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0 OR NOT output MATCHES "signed in with testing doubles")
    message(FATAL_ERROR "the pkg-config consumer failed (${result}):\n${output}")
endif()
message("${output}")
