# devflow_add_adapter: the one way an adapter folder (adapters/<name>/)
# defines its CMake target. Included by adapters/CMakeLists.txt.
#
#   devflow_add_adapter(<name>
#       NEEDS "<what to install, one line>"
#       LINK <imported target>...
#       [DEFINITIONS <macro>...])
#
# 1. Runs adapters/<name>/devflow_find_<name>.cmake, which finds the
#    third-party library (defining the imported targets of LINK) and sets
#    DEVFLOW_<NAME>_FOUND. The installed package config runs the same file
#    (cmake/devflowConfig.cmake.in), so a consumer finds exactly what this
#    build found.
# 2. Found: the INTERFACE target devflow_<name>, alias devflow::<name>
#    (export name <name>), with adapters/<name>/include as its include
#    directory, linking devflow::devflow and LINK, with DEFINITIONS as
#    interface compile definitions (every file that links it sees them).
# 3. Not found: a configure error when DEVFLOW_REQUIRE_ADAPTERS is ON, else a
#    status line; both say "devflow::<name> needs <NEEDS>, which was not
#    found", the words of the package config (which gets NEEDS from here,
#    through the global property DEVFLOW_ADAPTER_NEEDS_<name>).
function(devflow_add_adapter name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "NEEDS" "LINK;DEFINITIONS")
    if(arg_UNPARSED_ARGUMENTS OR NOT arg_NEEDS OR NOT arg_LINK)
        message(FATAL_ERROR "devflow_add_adapter(${name}): usage: "
                            "devflow_add_adapter(<name> NEEDS <text> LINK <targets...> [DEFINITIONS <macros...>])")
    endif()

    # The NEEDS line, for the installed package config's messages too.
    set_property(GLOBAL PROPERTY DEVFLOW_ADAPTER_NEEDS_${name} "${arg_NEEDS}")

    string(TOUPPER "${name}" upper)
    set(DEVFLOW_${upper}_FOUND FALSE)
    include("${CMAKE_CURRENT_SOURCE_DIR}/devflow_find_${name}.cmake")

    set(why "devflow::${name} needs ${arg_NEEDS}, which was not found")
    if(NOT DEVFLOW_${upper}_FOUND)
        if(DEVFLOW_REQUIRE_ADAPTERS)
            message(FATAL_ERROR "devflow: ${why}, and DEVFLOW_REQUIRE_ADAPTERS is ON")
        endif()
        message(STATUS "devflow: ${why}; skipping the adapter")
        return()
    endif()

    add_library(devflow_${name} INTERFACE)
    add_library(devflow::${name} ALIAS devflow_${name})
    set_target_properties(devflow_${name} PROPERTIES EXPORT_NAME ${name})
    target_include_directories(devflow_${name} INTERFACE
        $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
        $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_link_libraries(devflow_${name} INTERFACE devflow::devflow ${arg_LINK})
    if(arg_DEFINITIONS)
        target_compile_definitions(devflow_${name} INTERFACE ${arg_DEFINITIONS})
    endif()
endfunction()
