# Writes the man page: runs `${DEVFLOW} --man` into ${OUTPUT} (tools/CMakeLists.txt).
execute_process(COMMAND ${DEVFLOW} --man OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    file(REMOVE ${OUTPUT}.tmp)
    message(FATAL_ERROR "devflow --man failed (${result})")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
