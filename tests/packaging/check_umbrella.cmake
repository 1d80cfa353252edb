# Fails unless <devflow/devflow.hpp> is a true umbrella of the core (run by
# the `packaging` tests with cmake -P): it must include, at the start of a
# line, every public core header (each *.hpp directly under
# INCLUDE_DIR/devflow/, whatever its name; detail/, impl/ and testing/ are
# not public), and never the test doubles (<devflow/testing.hpp>, testing/).
#   -D INCLUDE_DIR=<an include/ directory>
cmake_minimum_required(VERSION 3.21)

set(umbrella "${INCLUDE_DIR}/devflow/devflow.hpp")
if(NOT EXISTS "${umbrella}")
    message(FATAL_ERROR "${umbrella} does not exist")
endif()
file(READ "${umbrella}" text)
set(text "\n${text}")

file(GLOB public RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/devflow/*.hpp")
list(SORT public)
list(REMOVE_ITEM public "devflow/devflow.hpp" "devflow/testing.hpp")
set(missing "")
foreach(header IN LISTS public)
    string(REPLACE "." "\\." pattern "${header}")
    if(NOT text MATCHES "\n#include <${pattern}>")
        list(APPEND missing "<${header}>")
    endif()
endforeach()
if(missing)
    string(REPLACE ";" " " missing "${missing}")
    message(FATAL_ERROR "<devflow/devflow.hpp> does not include the public header(s) ${missing}: "
                        "add them to ${umbrella} (then run scripts/amalgamate.sh)")
endif()

if(text MATCHES "\n[ \t]*#[ \t]*include[ \t]*[<\"]devflow/testing[/.]")
    message(FATAL_ERROR "<devflow/devflow.hpp> includes test doubles: they belong in <devflow/testing.hpp> only")
endif()
list(LENGTH public count)
message("<devflow/devflow.hpp> includes all ${count} public core headers")
