# Fails when single_include/<FILE> is not what scripts/amalgamate.sh would
# write from the current include/devflow/ (run by the `packaging` tests with
# cmake -P), or when single_include/ holds a file the generator does not
# write (a stale amalgamation, such as the old single_include/devflow.hpp).
#   -D SOURCE_DIR=<devflow checkout>  -D OUTPUT_DIR=<scratch directory>
#   -D FILE=<devflow/devflow.hpp or devflow/testing.hpp>
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE "${OUTPUT_DIR}")
execute_process(
    COMMAND "${CMAKE_COMMAND}" -D "OUTPUT_DIR=${OUTPUT_DIR}" -D "SOURCE_DIR=${SOURCE_DIR}"
            -P "${SOURCE_DIR}/cmake/devflow_amalgamate.cmake"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the amalgamation failed:\n${output}")
endif()

file(GLOB_RECURSE generated RELATIVE "${OUTPUT_DIR}" "${OUTPUT_DIR}/*")
file(GLOB_RECURSE committed RELATIVE "${SOURCE_DIR}/single_include" "${SOURCE_DIR}/single_include/*")
list(SORT generated)
list(SORT committed)
if(NOT committed STREQUAL generated)
    message(FATAL_ERROR "single_include/ holds [${committed}]; scripts/amalgamate.sh writes "
                        "[${generated}]: remove what it does not write, run it and commit the result")
endif()

execute_process(
    COMMAND "${CMAKE_COMMAND}" -E compare_files "${OUTPUT_DIR}/${FILE}"
            "${SOURCE_DIR}/single_include/${FILE}"
    RESULT_VARIABLE different)
if(different)
    message(FATAL_ERROR "single_include/${FILE} is out of date with include/devflow/: "
                        "run scripts/amalgamate.sh and commit the result")
endif()
message("single_include/${FILE} is up to date")
