# Finds libqrencode and provides the imported target qrencode::qrencode. Sets
# DEVFLOW_QRENCODE_FOUND. Usable from devflow's own build and from an
# installed package config, so both find the same thing the same way.
# libqrencode ships a pkg-config file but no CMake package (Debian:
# libqrencode-dev), so the header and library are found directly, with
# pkg-config's paths as hints when it is available.
set(DEVFLOW_QRENCODE_FOUND FALSE)

if(NOT TARGET qrencode::qrencode)
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(DEVFLOW_PC_QRENCODE QUIET libqrencode)
    endif()
    find_path(DEVFLOW_QRENCODE_INCLUDE_DIR qrencode.h HINTS ${DEVFLOW_PC_QRENCODE_INCLUDE_DIRS})
    find_library(DEVFLOW_QRENCODE_LIBRARY NAMES qrencode HINTS ${DEVFLOW_PC_QRENCODE_LIBRARY_DIRS})
    if(DEVFLOW_QRENCODE_INCLUDE_DIR AND DEVFLOW_QRENCODE_LIBRARY)
        add_library(qrencode::qrencode UNKNOWN IMPORTED)
        set_target_properties(qrencode::qrencode PROPERTIES
            IMPORTED_LOCATION "${DEVFLOW_QRENCODE_LIBRARY}"
            INTERFACE_INCLUDE_DIRECTORIES "${DEVFLOW_QRENCODE_INCLUDE_DIR}")
    endif()
endif()

if(TARGET qrencode::qrencode)
    set(DEVFLOW_QRENCODE_FOUND TRUE)
endif()
