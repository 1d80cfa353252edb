# Fails when the code block that docs show from an example is not, byte for
# byte, the part of the example between its two `// [NAME]` lines, so the
# code a page shows is code that compiles and runs.
#   cmake -D DOC=docs/policies.md -D EXAMPLE=examples/custom_http.cpp -D NAME=custom-transport
#         -P doc_snippet.cmake
# In DOC the block is the ```cpp fence that follows the line
# `<!-- snippet: examples/<example file> NAME -->`.
file(READ "${EXAMPLE}" example)
set(marker "// [${NAME}]\n")
string(FIND "${example}" "${marker}" first)
if(first EQUAL -1)
    message(FATAL_ERROR "${EXAMPLE} has no `// [${NAME}]` line")
endif()
string(LENGTH "${marker}" marker_length)
math(EXPR start "${first} + ${marker_length}")
string(SUBSTRING "${example}" ${start} -1 rest)
string(FIND "${rest}" "${marker}" last)
if(last EQUAL -1)
    message(FATAL_ERROR "${EXAMPLE} has no second `// [${NAME}]` line")
endif()
string(SUBSTRING "${rest}" 0 ${last} code)

file(READ "${DOC}" doc)
get_filename_component(example_name "${EXAMPLE}" NAME)
set(doc_marker "<!-- snippet: examples/${example_name} ${NAME} -->\n```cpp\n")
string(FIND "${doc}" "${doc_marker}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "${DOC} has no `<!-- snippet: examples/${example_name} ${NAME} -->` "
                        "line followed by a ```cpp fence")
endif()
string(LENGTH "${doc_marker}" doc_marker_length)
math(EXPR start "${at} + ${doc_marker_length}")
string(SUBSTRING "${doc}" ${start} -1 rest)
string(FIND "${rest}" "```\n" end)
string(SUBSTRING "${rest}" 0 ${end} shown)

if(NOT shown STREQUAL code)
    message(FATAL_ERROR "the `${NAME}` block of ${DOC} differs from ${EXAMPLE}: "
                        "copy the lines between the two `// [${NAME}]` lines into it")
endif()
message("${DOC}: the `${NAME}` block is ${EXAMPLE} as it compiles")
