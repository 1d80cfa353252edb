# Fails when single_include/devflow.hpp is not what scripts/amalgamate.sh
# would write from the current include/devflow/ (run by the `packaging`
# tests with cmake -P).
#   -D SOURCE_DIR=<devflow checkout>  -D OUTPUT=<scratch file>
cmake_minimum_required(VERSION 3.21)

execute_process(
    COMMAND "${CMAKE_COMMAND}" -D "OUTPUT=${OUTPUT}" -D "SOURCE_DIR=${SOURCE_DIR}"
            -P "${SOURCE_DIR}/cmake/devflow_amalgamate.cmake"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the amalgamation failed:\n${output}")
endif()
execute_process(
    COMMAND "${CMAKE_COMMAND}" -E compare_files "${OUTPUT}" "${SOURCE_DIR}/single_include/devflow.hpp"
    RESULT_VARIABLE different)
if(different)
    message(FATAL_ERROR "single_include/devflow.hpp is out of date with include/devflow/: "
                        "run scripts/amalgamate.sh and commit the result")
endif()
