# Fails when FILE has more than MAX_LINES lines (cmake -D FILE=... -D MAX_LINES=... -P).
file(READ "${FILE}" text)
string(REGEX MATCHALL "\n" newlines "${text}")
list(LENGTH newlines lines)
if(NOT text MATCHES "\n$" AND NOT text STREQUAL "")
    math(EXPR lines "${lines} + 1")  # a last line without a newline
endif()
if(lines GREATER MAX_LINES)
    message(FATAL_ERROR "${FILE} has ${lines} lines; keep it to ${MAX_LINES}")
endif()
message("${FILE}: ${lines} lines (at most ${MAX_LINES})")
