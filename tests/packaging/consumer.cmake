# Configures, builds and runs one consumer project from scratch (run by the
# `packaging` tests with cmake -P). Fails, printing what the tools said,
# unless every step does what is expected.
#
#   -D SOURCE=<consumer project>  -D BINARY=<its build dir, wiped first>
#   -D GENERATOR=... -D MAKE_PROGRAM=... -D CXX_COMPILER=...
#   -D ARGS=<-Dx=y|-Dz=w>       extra configure arguments, `|`-separated
#   -D EXPECT_CONFIGURE=failure   the configuration must fail (default: succeed)
#   -D EXPECT_OUTPUT=<regex>      the configure output must match
#   -D RUN=<program>              build, then run BINARY/<program>, which must exit 0
#   -D RUN_OUTPUT=<regex>         ... and print this
#   -D ARCHIVE=<file.tar.gz> -D ARCHIVE_FROM=<dir> -D ARCHIVE_ITEMS=<a|b>
#                                 first pack these items of ARCHIVE_FROM (a
#                                 source release) and pass -DDEVFLOW_ARCHIVE
#                                 and -DDEVFLOW_ARCHIVE_SHA256 to the project
cmake_minimum_required(VERSION 3.21)

foreach(required IN ITEMS SOURCE BINARY GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${required})
        message(FATAL_ERROR "consumer.cmake: -D ${required}=... is required")
    endif()
endforeach()

function(fail what output)
    message(FATAL_ERROR "${what}\n---- output ----\n${output}\n----------------")
endfunction()

file(REMOVE_RECURSE "${BINARY}")
file(MAKE_DIRECTORY "${BINARY}")

set(configure_args "")
if(DEFINED ARGS AND NOT ARGS STREQUAL "")
    string(REPLACE "|" ";" configure_args "${ARGS}")
endif()
if(DEFINED MAKE_PROGRAM AND NOT MAKE_PROGRAM STREQUAL "")
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

if(DEFINED ARCHIVE)
    string(REPLACE "|" ";" items "${ARCHIVE_ITEMS}")
    execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${ARCHIVE}" -- ${items}
                    WORKING_DIRECTORY "${ARCHIVE_FROM}"
                    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        fail("packing ${ARCHIVE} failed" "${output}")
    endif()
    file(SHA256 "${ARCHIVE}" archive_sha256)
    list(APPEND configure_args "-DDEVFLOW_ARCHIVE=${ARCHIVE}"
                               "-DDEVFLOW_ARCHIVE_SHA256=${archive_sha256}")
endif()

execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${BINARY}" -G "${GENERATOR}"
            "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" ${configure_args}
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(EXPECT_CONFIGURE STREQUAL "failure")
    if(result EQUAL 0)
        fail("the configuration of ${SOURCE} succeeded; it was expected to fail" "${output}")
    endif()
elseif(NOT result EQUAL 0)
    fail("the configuration of ${SOURCE} failed" "${output}")
endif()
if(DEFINED EXPECT_OUTPUT AND NOT output MATCHES "${EXPECT_OUTPUT}")
    fail("the configure output does not match: ${EXPECT_OUTPUT}" "${output}")
endif()
message("${output}")

if(NOT DEFINED RUN)
    return()
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    fail("the build of ${SOURCE} failed" "${output}")
endif()
execute_process(COMMAND "${BINARY}/${RUN}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    fail("${RUN} exited with ${result}" "${output}")
endif()
if(DEFINED RUN_OUTPUT AND NOT output MATCHES "${RUN_OUTPUT}")
    fail("${RUN}'s output does not match: ${RUN_OUTPUT}" "${output}")
endif()
message("${output}")
