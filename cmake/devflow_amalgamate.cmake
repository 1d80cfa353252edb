# Writes the single-header amalgamations of devflow's core (docs/packaging.md):
#
#   cmake -D OUTPUT_DIR=single_include -P cmake/devflow_amalgamate.cmake
#
# writes two files, used as <devflow/devflow.hpp> and <devflow/testing.hpp>
# with -I OUTPUT_DIR, the same paths as from include/:
#
#   OUTPUT_DIR/devflow/devflow.hpp  the core: include/devflow/devflow.hpp (the
#                                   umbrella) and then every other header
#                                   outside testing/, in name order
#   OUTPUT_DIR/devflow/testing.hpp  the test doubles: include/devflow/testing.hpp
#                                   and testing/*.hpp; it includes
#                                   <devflow/devflow.hpp> instead of repeating
#                                   the core
#
# Each header is inlined once, preceded by the devflow headers it includes
# (depth first, the order the compiler would read them). `#include
# <devflow/...>` lines are replaced by the file they name (or dropped when it
# is already in); standard and system includes stay where they are, inside
# any #if around them. Adapters are not part of either file. The output is
# byte-for-byte deterministic: no date, no absolute path.
#
# Optional: -D SOURCE_DIR=<devflow checkout> (default: this file's parent).
cmake_minimum_required(VERSION 3.21)

if(NOT DEFINED OUTPUT_DIR)
    message(FATAL_ERROR "usage: cmake -D OUTPUT_DIR=<dir> -P devflow_amalgamate.cmake")
endif()
if(NOT DEFINED SOURCE_DIR)
    get_filename_component(SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()
set(include_root "${SOURCE_DIR}/include")

# Reads the version from version.hpp so the banners name it.
file(STRINGS "${include_root}/devflow/version.hpp" version_line
     REGEX "^#define DEVFLOW_VERSION_STRING ")
string(REGEX REPLACE "^#define DEVFLOW_VERSION_STRING \"([^\"]*)\".*" "\\1" version "${version_line}")

# The CMake string functions work on whole texts here (never on lists), so
# the semicolons and brackets of C++ come through untouched.
set_property(GLOBAL PROPERTY devflow_amalgamated "")

# _devflow_inline(<header relative to include/> <out var>): the header's text
# with its devflow includes replaced, recursively.
function(_devflow_inline header out_var)
    set(path "${include_root}/${header}")
    if(NOT EXISTS "${path}")
        message(FATAL_ERROR "amalgamate: <${header}> is included but ${path} does not exist "
                            "(the amalgamation holds the core only, never adapters)")
    endif()
    file(READ "${path}" text)
    # A leading newline lets every include be matched at the start of a line.
    set(text "\n${text}")
    string(REGEX REPLACE "\n#pragma once[^\n]*" "" text "${text}")
    set(result "")
    while(TRUE)
        string(REGEX MATCH "\n#include <(devflow/[^>]+)>[^\n]*" directive "${text}")
        if(directive STREQUAL "")
            break()
        endif()
        set(included "${CMAKE_MATCH_1}")
        string(FIND "${text}" "${directive}" at)
        string(SUBSTRING "${text}" 0 ${at} before)
        string(LENGTH "${directive}" directive_length)
        math(EXPR after_at "${at} + ${directive_length}")
        string(SUBSTRING "${text}" ${after_at} -1 text)
        string(APPEND result "${before}")
        get_property(done GLOBAL PROPERTY devflow_amalgamated)
        if(NOT "|${included}|" IN_LIST done)
            set_property(GLOBAL APPEND PROPERTY devflow_amalgamated "|${included}|")
            _devflow_inline("${included}" inner)
            string(APPEND result "\n// ---- begin <${included}> ----${inner}\n// ---- end <${included}> ----")
        endif()
    endwhile()
    string(APPEND result "${text}")
    set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

# _devflow_amalgamate(<out var> <header>...): the headers, each inlined with
# what it includes unless it is already in, one after the other.
function(_devflow_amalgamate out_var)
    set(body "")
    foreach(header IN LISTS ARGN)
        get_property(done GLOBAL PROPERTY devflow_amalgamated)
        if(NOT "|${header}|" IN_LIST done)
            set_property(GLOBAL APPEND PROPERTY devflow_amalgamated "|${header}|")
            _devflow_inline("${header}" inner)
            string(APPEND body "\n// ---- begin <${header}> ----${inner}\n// ---- end <${header}> ----\n")
        endif()
    endforeach()
    # An include this script did not recognise (indented, quoted) would make
    # the single header depend on the include tree: refuse it. (One in a
    # comment, after `//`, is text.)
    string(REGEX MATCH "\n[ \t]*#[ \t]*include[ \t]*[<\"]devflow/[^\n]*" stray "\n${body}")
    if(NOT stray STREQUAL "")
        message(FATAL_ERROR "amalgamate: unhandled include left in the output: ${stray} "
                            "(write core includes as `#include <devflow/...>` at the start of a line)")
    endif()
    set(${out_var} "${body}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE headers RELATIVE "${include_root}" "${include_root}/devflow/*.hpp")
list(SORT headers)
# impl/*.hpp hold template definitions: each is pulled in by the header that
# declares what it defines, never on its own.
set(implementation_files ${headers})
list(FILTER implementation_files INCLUDE REGEX "^devflow/impl/")
list(FILTER headers EXCLUDE REGEX "^devflow/impl/")
# The test doubles: testing.hpp and testing/.
set(testing_headers ${headers})
list(FILTER testing_headers INCLUDE REGEX "^devflow/testing(/|\\.hpp$)")
list(FILTER headers EXCLUDE REGEX "^devflow/testing(/|\\.hpp$)")
list(REMOVE_ITEM testing_headers "devflow/testing.hpp")
list(PREPEND testing_headers "devflow/testing.hpp")
list(REMOVE_ITEM headers "devflow/devflow.hpp")
list(PREPEND headers "devflow/devflow.hpp")

# 1. The core, from the umbrella.
_devflow_amalgamate(core_body ${headers})
get_property(core_done GLOBAL PROPERTY devflow_amalgamated)
foreach(header IN LISTS testing_headers)
    if("|${header}|" IN_LIST core_done)
        message(FATAL_ERROR "amalgamate: the core includes the test double <${header}> "
                            "(the test doubles are <devflow/testing.hpp> only)")
    endif()
endforeach()

# 2. The test doubles, on top of the core: every core header counts as in
#    already, since the file includes <devflow/devflow.hpp>.
_devflow_amalgamate(testing_body ${testing_headers})

# Every impl/ header must have been pulled in by the header that owns it.
get_property(done GLOBAL PROPERTY devflow_amalgamated)
foreach(file IN LISTS implementation_files)
    if(NOT "|${file}|" IN_LIST done)
        message(FATAL_ERROR "amalgamate: ${file} is included by no header")
    endif()
endforeach()

set(core_banner [=[// devflow @VERSION@ — single-header amalgamation of the core: include/devflow/
// devflow.hpp and every header it includes (the device_flow class template,
// its policies' concepts, the file and memory stores, the system clock and
// browser, discovery), then the rest of include/devflow/ outside testing/.
// Include it as <devflow/devflow.hpp> with single_include/ on the include
// path. The test doubles are the generated <devflow/testing.hpp> next to it;
// adapters (curl, httplib, nlohmann_json, ...) are not included: see
// docs/packaging.md.
//
// GENERATED by scripts/amalgamate.sh from include/devflow/ — do not edit;
// a test fails when this file is out of date.
#pragma once
]=])
set(testing_banner [=[// devflow @VERSION@ — single-header amalgamation of the test doubles:
// include/devflow/testing.hpp and testing/ (fake_clock, fake_http,
// fake_authorization_server, recording_browser; docs/testing.md). It goes
// with the generated single <devflow/devflow.hpp> next to it, which it
// includes rather than repeating the core.
//
// GENERATED by scripts/amalgamate.sh from include/devflow/ — do not edit;
// a test fails when this file is out of date.
#pragma once

#include <devflow/devflow.hpp>
]=])
string(REPLACE "@VERSION@" "${version}" core_banner "${core_banner}")
string(REPLACE "@VERSION@" "${version}" testing_banner "${testing_banner}")
file(WRITE "${OUTPUT_DIR}/devflow/devflow.hpp" "${core_banner}${core_body}")
file(WRITE "${OUTPUT_DIR}/devflow/testing.hpp" "${testing_banner}${testing_body}")
