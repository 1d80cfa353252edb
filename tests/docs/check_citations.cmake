# Fails when a tracked file cites a document path that does not exist in the
# repository (docs/design.md, not a design document kept elsewhere): every
# path ending in .md that a file names must be there, relative to the
# repository root or to the citing file; a bare file name (a link's text,
# prose) must be the name of some file in the repository. URLs are not checked, nor
# the documents the project's scripts generate (listed below).
#
#   cmake -D SOURCE_DIR=<repo> -P tests/docs/check_citations.cmake
cmake_minimum_required(VERSION 3.21)
if(NOT SOURCE_DIR)
    message(FATAL_ERROR "check_citations: pass -D SOURCE_DIR=<the repository>")
endif()

find_package(Git QUIET)
set(files "")
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
    execute_process(COMMAND "${GIT_EXECUTABLE}" ls-files
                    WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE listed RESULT_VARIABLE rc)
    if(rc EQUAL 0)
        string(REPLACE "\n" ";" files "${listed}")
    endif()
endif()
if(NOT files)
    # A source tarball: every file, less what the build and npm leave behind.
    file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/*")
    list(FILTER files EXCLUDE REGEX "^(build|\\.git)/|/node_modules/")
endif()
list(FILTER files EXCLUDE REGEX "package-lock\\.json$|^tests/fuzz/corpus/")

# Documents the scripts write, not documents anyone cites.
set(generated "summary.md" "out/summary.md")  # bench/run.sh's report

set(names "")
foreach(file IN LISTS files)
    get_filename_component(name "${file}" NAME)
    list(APPEND names "${name}")
endforeach()

set(broken "")
set(checked 0)
foreach(file IN LISTS files)
    if(file STREQUAL "" OR NOT EXISTS "${SOURCE_DIR}/${file}" OR IS_DIRECTORY "${SOURCE_DIR}/${file}")
        continue()
    endif()
    get_filename_component(dir "${SOURCE_DIR}/${file}" DIRECTORY)
    file(STRINGS "${SOURCE_DIR}/${file}" lines REGEX "[A-Za-z0-9_-]\\.md")
    foreach(line IN LISTS lines)
        # URLs cite documents elsewhere; they are not ours to check.
        string(REGEX REPLACE "[a-zA-Z][a-zA-Z0-9+.-]*://[^] )>\"'`]*" "" line "${line}")
        string(REGEX MATCHALL "[A-Za-z0-9_./-]*[A-Za-z0-9_-]\\.md" cited "${line}")
        foreach(path IN LISTS cited)
            math(EXPR checked "${checked} + 1")
            if(EXISTS "${SOURCE_DIR}/${path}" OR EXISTS "${dir}/${path}" OR path IN_LIST generated)
                continue()
            endif()
            if(NOT path MATCHES "/" AND path IN_LIST names)
                continue()
            endif()
            list(APPEND broken "${file}: cites ${path}, which is not in the repository")
        endforeach()
    endforeach()
endforeach()

list(REMOVE_DUPLICATES broken)
if(broken)
    list(JOIN broken "\n  " text)
    message(FATAL_ERROR "documents cited but missing:\n  ${text}")
endif()
message(STATUS "check_citations: ${checked} citations of documents, all present")
