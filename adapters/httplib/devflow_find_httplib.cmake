# Finds cpp-httplib with https support and provides the imported target
# httplib::httplib (plus OpenSSL::SSL and OpenSSL::Crypto). Sets
# DEVFLOW_HTTPLIB_FOUND. Usable from devflow's own build and from an
# installed package config, so both find the same thing the same way.
#
# 1. An upstream CMake package (httplib::httplib from cpp-httplib's install).
# 2. Otherwise the header, found with find_path (Debian ships no CMake config).
#    Debian's libcpp-httplib-dev is the "split" build: a header of
#    declarations plus libcpp-httplib.so, compiled with
#    CPPHTTPLIB_OPENSSL_SUPPORT, _ZLIB_SUPPORT and _BROTLI_SUPPORT. Those
#    macros change class layouts, so every file that includes the header must
#    see the same ones: they are taken from the library's pkg-config file when
#    there is one.
set(DEVFLOW_HTTPLIB_FOUND FALSE)
find_package(OpenSSL 1.1.1 QUIET)
find_package(Threads QUIET)

if(OpenSSL_FOUND AND NOT TARGET httplib::httplib)
    find_package(httplib CONFIG QUIET)
    if(httplib_FOUND AND HTTPLIB_IS_COMPILED AND NOT HTTPLIB_IS_USING_OPENSSL)
        message(STATUS "devflow: the installed cpp-httplib library was built without OpenSSL; ignoring it")
        set(httplib_FOUND FALSE)
    endif()
    if(NOT httplib_FOUND)
        find_path(DEVFLOW_HTTPLIB_INCLUDE_DIR httplib.h)
        find_library(DEVFLOW_HTTPLIB_LIBRARY NAMES cpp-httplib)
        if(DEVFLOW_HTTPLIB_INCLUDE_DIR)
            add_library(httplib::httplib INTERFACE IMPORTED)
            set_target_properties(httplib::httplib PROPERTIES
                INTERFACE_INCLUDE_DIRECTORIES "${DEVFLOW_HTTPLIB_INCLUDE_DIR}")
            target_link_libraries(httplib::httplib INTERFACE OpenSSL::SSL OpenSSL::Crypto)
            if(TARGET Threads::Threads)
                target_link_libraries(httplib::httplib INTERFACE Threads::Threads)
            endif()
            if(DEVFLOW_HTTPLIB_LIBRARY)
                # The split build: use the macros it was compiled with.
                target_link_libraries(httplib::httplib INTERFACE "${DEVFLOW_HTTPLIB_LIBRARY}")
                find_package(PkgConfig QUIET)
                if(PKG_CONFIG_FOUND)
                    pkg_check_modules(DEVFLOW_PC_HTTPLIB QUIET cpp-httplib)
                endif()
                set(_devflow_httplib_defs CPPHTTPLIB_OPENSSL_SUPPORT)
                foreach(_flag IN LISTS DEVFLOW_PC_HTTPLIB_CFLAGS_OTHER)
                    if(_flag MATCHES "^-D(CPPHTTPLIB_.*)$")
                        list(APPEND _devflow_httplib_defs "${CMAKE_MATCH_1}")
                    endif()
                endforeach()
                list(REMOVE_DUPLICATES _devflow_httplib_defs)
                set_property(TARGET httplib::httplib APPEND PROPERTY
                    INTERFACE_COMPILE_DEFINITIONS ${_devflow_httplib_defs})
            endif()
        endif()
    endif()
endif()

if(OpenSSL_FOUND AND TARGET httplib::httplib)
    set(DEVFLOW_HTTPLIB_FOUND TRUE)
endif()
