# Installs devflow into an empty prefix and checks what lands there (run by
# the `packaging` tests with cmake -P). Two ways in:
#
#   -D DOC=<docs/packaging.md> -D SOURCE_DIR=<checkout> -D BUILD_DIR=<fresh dir>
#       runs exactly the commands of the ```sh block that follows the line
#       `<!-- tested: ...install.cmake -->` in DOC (the documented install: a
#       configure, then `cmake --install` with no build), with the source
#       directory (-S), the build directory (-B, --install) and the prefix
#       (--prefix) replaced by SOURCE_DIR, BUILD_DIR and PREFIX; every other
#       argument is passed as written. The block must hold a configure and an
#       install and no build.
#   -D BUILD_DIR=<a built tree> -D COMPONENT=<name>
#       cmake --install BUILD_DIR --prefix PREFIX --component COMPONENT
#
# Then, with -D PREFIX=<prefix, wiped first>:
#   -D EXPECT=<path|path|...>   files that must be there
#   -D ABSENT=<dir|dir|...>     top-level directories that must not be there
#   -D ONLY=<dir|dir|...>       the top-level directories that may be there
#   -D VERSION=<version>        with -D PACKAGE=ON: the version file accepts
#                               another pointer size (ARCH_INDEPENDENT) and
#                               devflow.pc names PREFIX; with -D
#                               RUN_VERSION=<program>: `PREFIX/<program>
#                               --version` prints VERSION
cmake_minimum_required(VERSION 3.21)

function(run what)
    string(REPLACE ";" " " shown "${ARGN}")
    message("install.cmake: ${shown}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result
                    OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${what} failed (${result}):\n${shown}\n${output}")
    endif()
    set(log "${log}${output}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${PREFIX}")
set(log "")

if(DEFINED DOC)
    # The documented commands, taken from the page itself.
    file(READ "${DOC}" doc)
    string(REGEX MATCH "<!-- tested: [^>]*install\\.cmake[^>]*-->[^`]*```sh\n([^`]*)```" block "${doc}")
    if(block STREQUAL "")
        message(FATAL_ERROR "${DOC} has no ```sh block after a `<!-- tested: ...install.cmake -->` line")
    endif()
    string(REPLACE "\n" ";" lines "${CMAKE_MATCH_1}")
    set(commands "")
    set(configured FALSE)
    set(installed FALSE)
    set(documented_build "")
    file(REMOVE_RECURSE "${BUILD_DIR}")
    foreach(line IN LISTS lines)
        string(REGEX REPLACE "(^|[ \t])#.*$" "" line "${line}")  # a trailing comment
        string(STRIP "${line}" line)
        if(line STREQUAL "")
            continue()
        endif()
        separate_arguments(words UNIX_COMMAND "${line}")
        list(POP_FRONT words program)
        if(NOT program STREQUAL "cmake")
            message(FATAL_ERROR "the documented install runs `${line}`; this test runs cmake commands only")
        endif()
        set(command "${CMAKE_COMMAND}")
        set(replace "")
        foreach(word IN LISTS words)
            if(replace STREQUAL "source")
                list(APPEND command "${SOURCE_DIR}")
            elseif(replace STREQUAL "build")
                if(documented_build STREQUAL "")
                    set(documented_build "${word}")
                elseif(NOT word STREQUAL documented_build)
                    message(FATAL_ERROR "the documented install names two build directories: "
                                        "${documented_build} and ${word}")
                endif()
                list(APPEND command "${BUILD_DIR}")
            elseif(replace STREQUAL "prefix")
                list(APPEND command "${PREFIX}")
            else()
                list(APPEND command "${word}")
            endif()
            set(replace "")
            if(word STREQUAL "-S")
                set(replace source)
            elseif(word STREQUAL "-B" OR word STREQUAL "--install")
                set(replace build)
            elseif(word STREQUAL "--prefix")
                set(replace prefix)
            endif()
            if(word STREQUAL "--build")
                message(FATAL_ERROR "the documented install builds (`${line}`): it must not need to")
            elseif(word STREQUAL "-S")
                set(configured TRUE)
            elseif(word STREQUAL "--install")
                set(installed TRUE)
            endif()
        endforeach()
        run("`${line}`" ${command})
    endforeach()
    if(NOT configured OR NOT installed)
        message(FATAL_ERROR "the documented install must configure (-S) and install (--install):\n"
                            "${CMAKE_MATCH_1}")
    endif()
    # Nothing was built: no object, no program in the build tree.
    file(GLOB_RECURSE built "${BUILD_DIR}/*.o" "${BUILD_DIR}/tools/devflow")
    if(built)
        message(FATAL_ERROR "the documented install built something: ${built}")
    endif()
else()
    run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
        --component "${COMPONENT}")
endif()

string(REPLACE "|" ";" expected "${EXPECT}")
foreach(file IN LISTS expected)
    if(NOT EXISTS "${PREFIX}/${file}")
        message(FATAL_ERROR "the install did not install ${file}:\n${log}")
    endif()
endforeach()
file(GLOB top RELATIVE "${PREFIX}" LIST_DIRECTORIES true "${PREFIX}/*")
if(DEFINED ABSENT)
    string(REPLACE "|" ";" absent "${ABSENT}")
    foreach(dir IN LISTS top)
        foreach(pattern IN LISTS absent)
            if(dir MATCHES "^(${pattern})$")
                message(FATAL_ERROR "the install put files under ${PREFIX}/${dir}:\n${log}")
            endif()
        endforeach()
    endforeach()
endif()
if(DEFINED ONLY)
    string(REPLACE "|" ";" only "${ONLY}")
    foreach(dir IN LISTS top)
        if(NOT dir IN_LIST only)
            message(FATAL_ERROR "the install put files under ${PREFIX}/${dir} (expected only ${ONLY}):\n${log}")
        endif()
    endforeach()
endif()

if(PACKAGE)
    # Header-only and arch independent: the version file does not insist on
    # the pointer size of the machine that built it. Ask it as a consumer with
    # the other pointer size would.
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
endif()

if(DEFINED RUN_VERSION)
    execute_process(COMMAND "${PREFIX}/${RUN_VERSION}" --version RESULT_VARIABLE result
                    OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0 OR NOT output MATCHES "${VERSION}")
        message(FATAL_ERROR "${PREFIX}/${RUN_VERSION} --version (${result}) does not print ${VERSION}:\n${output}")
    endif()
endif()

file(GLOB_RECURSE installed RELATIVE "${PREFIX}" "${PREFIX}/*")
list(LENGTH installed count)
message("installed ${count} files under ${PREFIX}")
