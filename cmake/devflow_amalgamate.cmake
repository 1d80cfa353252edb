# Writes the single-header amalgamation of devflow's core (docs/packaging.md).
#
#   cmake -D OUTPUT=single_include/devflow.hpp -P cmake/devflow_amalgamate.cmake
#
# Every header under include/devflow/ is inlined, each once, in dependency
# order: device_flow.hpp first, then the rest in name order, each preceded by
# the devflow headers it includes (depth first, the order the compiler would
# read them). `#include <devflow/...>` lines are replaced by the file they
# name (or dropped when it is already in); standard and system includes stay
# where they are, inside any #if around them. Adapters are not part of it.
# The output is byte-for-byte deterministic: no date, no absolute path.
#
# Optional: -D SOURCE_DIR=<devflow checkout> (default: this file's parent).
cmake_minimum_required(VERSION 3.21)

if(NOT DEFINED OUTPUT)
    message(FATAL_ERROR "usage: cmake -D OUTPUT=<file> -P devflow_amalgamate.cmake")
endif()
if(NOT DEFINED SOURCE_DIR)
    get_filename_component(SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()
set(include_root "${SOURCE_DIR}/include")

# Reads the version from version.hpp so the banner names it.
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

file(GLOB_RECURSE headers RELATIVE "${include_root}" "${include_root}/devflow/*.hpp")
list(SORT headers)
# impl/*.hpp hold template definitions: each is pulled in by the header that
# declares what it defines, never on its own.
set(implementation_files ${headers})
list(FILTER implementation_files INCLUDE REGEX "^devflow/impl/")
list(FILTER headers EXCLUDE REGEX "^devflow/impl/")
list(REMOVE_ITEM headers "devflow/device_flow.hpp")
list(PREPEND headers "devflow/device_flow.hpp")

set(body "")
foreach(header IN LISTS headers)
    get_property(done GLOBAL PROPERTY devflow_amalgamated)
    if(NOT "|${header}|" IN_LIST done)
        set_property(GLOBAL APPEND PROPERTY devflow_amalgamated "|${header}|")
        _devflow_inline("${header}" inner)
        string(APPEND body "\n// ---- begin <${header}> ----${inner}\n// ---- end <${header}> ----\n")
    endif()
endforeach()

# Every impl/ header must have been pulled in by the header that owns it.
get_property(done GLOBAL PROPERTY devflow_amalgamated)
foreach(file IN LISTS implementation_files)
    if(NOT "|${file}|" IN_LIST done)
        message(FATAL_ERROR "amalgamate: ${file} is included by no header")
    endif()
endforeach()

# An include this script did not recognise (indented, quoted) would make the
# single header depend on the include tree: refuse it.
string(REGEX MATCH "#[ \t]*include[ \t]*[<\"]devflow/[^\n]*" stray "${body}")
if(NOT stray STREQUAL "")
    message(FATAL_ERROR "amalgamate: unhandled include left in the output: ${stray} "
                        "(write core includes as `#include <devflow/...>` at the start of a line)")
endif()

set(banner [=[// devflow @VERSION@ — single-header amalgamation of the core (include/devflow/):
// the device_flow class template, its policies' concepts, the file and memory
// stores, the system clock and browser, and the test doubles of
// devflow/testing.hpp. Adapters (curl, httplib, nlohmann_json, ...) are not
// included: see docs/packaging.md.
//
// GENERATED by scripts/amalgamate.sh from include/devflow/ — do not edit;
// a test fails when this file is out of date.
#pragma once
]=])
string(REPLACE "@VERSION@" "${version}" banner "${banner}")
file(WRITE "${OUTPUT}" "${banner}${body}")
