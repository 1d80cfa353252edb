# Installs devflow from its build tree into an empty prefix (run by the
# `packaging` tests with cmake -P) and checks the layout: headers, the CMake
# package and devflow.pc, all architecture independent (nothing under lib/).
#
#   -D BUILD_DIR=<devflow's build tree>  -D PREFIX=<prefix, wiped first>
#   -D EXPECT=<path|path|...>            files that must be there
#   -D VERSION=<the project's version>
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE "${PREFIX}")
execute_process(
    COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" --component devflow
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "cmake --install failed:\n${output}")
endif()

string(REPLACE "|" ";" expected "${EXPECT}")
foreach(file IN LISTS expected)
    if(NOT EXISTS "${PREFIX}/${file}")
        message(FATAL_ERROR "cmake --install did not install ${file}:\n${output}")
    endif()
endforeach()

# Header-only and arch independent: nothing under lib*/, and the version
# file does not insist on the pointer size of the machine that built it.
file(GLOB lib_dirs LIST_DIRECTORIES true "${PREFIX}/lib*")
if(lib_dirs)
    message(FATAL_ERROR "cmake --install put files under ${lib_dirs}:\n${output}")
endif()
# Ask the version file as a 32-bit consumer would (this build is 64-bit or
# the other way round: either way the pointer size differs).
if(CMAKE_SIZEOF_VOID_P EQUAL 4)
    set(CMAKE_SIZEOF_VOID_P 8)
else()
    set(CMAKE_SIZEOF_VOID_P 4)
endif()
set(PACKAGE_FIND_NAME devflow)
set(PACKAGE_FIND_VERSION "${VERSION}")
string(REGEX MATCH "^[0-9]+" PACKAGE_FIND_VERSION_MAJOR "${VERSION}")
include("${PREFIX}/share/cmake/devflow/devflowConfigVersion.cmake")
if(PACKAGE_VERSION_UNSUITABLE OR NOT PACKAGE_VERSION_COMPATIBLE)
    message(FATAL_ERROR "devflowConfigVersion.cmake rejects a consumer with another pointer "
                        "size: it is not ARCH_INDEPENDENT")
endif()

# devflow.pc names the prefix given to cmake --install, substituted fully.
file(READ "${PREFIX}/share/pkgconfig/devflow.pc" pc)
string(FIND "${pc}" "\nprefix=${PREFIX}\n" at)
if(at EQUAL -1 OR pc MATCHES "@")
    message(FATAL_ERROR "devflow.pc does not name the install prefix ${PREFIX}:\n${pc}")
endif()
message("${output}")
