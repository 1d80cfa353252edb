# devflow's install rules (included by the top-level CMakeLists.txt when
# DEVFLOW_INSTALL is ON). Everything is header-only and architecture
# independent, so the CMake package and the pkg-config file go under
# share/ (docs/packaging.md):
#
#   include/devflow/...                      core and adapter headers
#   share/cmake/devflow/devflowConfig.cmake  find_package(devflow CONFIG COMPONENTS ...)
#   share/cmake/devflow/devflow-targets.cmake, devflow-<adapter>-targets.cmake
#   share/cmake/devflow/devflow_find_<adapter>.cmake (an adapter's dependency finder)
#   share/pkgconfig/devflow.pc
#   share/doc/devflow/LICENSE                the MIT license
#
# None of it needs a build: `cmake --install build` works on a tree that was
# only configured. Every rule here is in the install component `devflow`; the
# command-line tool is the component `devflow_tools` (tools/CMakeLists.txt),
# left out of the default install because it has to be built first.
include(CMakePackageConfigHelpers)

set(DEVFLOW_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/devflow"
    CACHE STRING "Where to install devflow's CMake package, relative to the prefix")
set(DEVFLOW_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
    CACHE STRING "Where to install devflow.pc, relative to the prefix")

# The license, next to the package's other documentation.
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT devflow)

# The core.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT devflow
        FILES_MATCHING PATTERN "*.hpp")
install(TARGETS devflow EXPORT devflow-targets COMPONENT devflow)
install(EXPORT devflow-targets NAMESPACE devflow::
        DESTINATION "${DEVFLOW_INSTALL_CMAKEDIR}" COMPONENT devflow)

# Each adapter built here (adapters/<name>/ defines devflow_<name>) gets its
# own export file, loaded only when its dependency is found: a consumer
# without libcurl can still use the core and the other adapters.
set(DEVFLOW_ALL_ADAPTERS "")
set(DEVFLOW_ADAPTER_NEEDS "")  # one set() per adapter: its NEEDS line
set(DEVFLOW_INSTALLED_ADAPTERS "")
file(GLOB _devflow_adapter_dirs LIST_DIRECTORIES true "${PROJECT_SOURCE_DIR}/adapters/*")
list(SORT _devflow_adapter_dirs)
foreach(_dir IN LISTS _devflow_adapter_dirs)
    if(NOT IS_DIRECTORY "${_dir}" OR NOT EXISTS "${_dir}/CMakeLists.txt")
        continue()
    endif()
    get_filename_component(_name "${_dir}" NAME)
    list(APPEND DEVFLOW_ALL_ADAPTERS "${_name}")
    get_property(_needs GLOBAL PROPERTY DEVFLOW_ADAPTER_NEEDS_${_name})
    string(REPLACE "\"" "\\\"" _needs "${_needs}")
    string(APPEND DEVFLOW_ADAPTER_NEEDS "set(_devflow_needs_${_name}\n    \"${_needs}\")\n")
    if(NOT TARGET devflow_${_name})
        continue()
    endif()
    list(APPEND DEVFLOW_INSTALLED_ADAPTERS "${_name}")
    if(IS_DIRECTORY "${_dir}/include")
        install(DIRECTORY "${_dir}/include/"
                DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT devflow
                FILES_MATCHING PATTERN "*.hpp")
    endif()
    install(TARGETS devflow_${_name} EXPORT devflow-${_name}-targets COMPONENT devflow)
    install(EXPORT devflow-${_name}-targets NAMESPACE devflow::
            DESTINATION "${DEVFLOW_INSTALL_CMAKEDIR}" COMPONENT devflow)
    # An adapter whose dependency has no CMake package of its own finds it
    # with adapters/<name>/devflow_find_<name>.cmake (which must set
    # DEVFLOW_<NAME>_FOUND); the package config reuses that same file.
    if(EXISTS "${_dir}/devflow_find_${_name}.cmake")
        install(FILES "${_dir}/devflow_find_${_name}.cmake"
                DESTINATION "${DEVFLOW_INSTALL_CMAKEDIR}" COMPONENT devflow)
    endif()
endforeach()

configure_package_config_file(
    "${PROJECT_SOURCE_DIR}/cmake/devflowConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/devflowConfig.cmake"
    INSTALL_DESTINATION "${DEVFLOW_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/devflowConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/devflowConfig.cmake"
              "${PROJECT_BINARY_DIR}/devflowConfigVersion.cmake"
        DESTINATION "${DEVFLOW_INSTALL_CMAKEDIR}" COMPONENT devflow)

# devflow.pc names absolute paths, so it is written at install time, when
# the prefix is known (`cmake --install --prefix` may change it).
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(_devflow_pc_includedir "${CMAKE_INSTALL_INCLUDEDIR}")
else()
    set(_devflow_pc_includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(DEVFLOW_PC_PREFIX "@DEVFLOW_INSTALL_TIME_PREFIX@")
set(DEVFLOW_PC_INCLUDEDIR "${_devflow_pc_includedir}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/devflow.pc.in"
               "${PROJECT_BINARY_DIR}/devflow.pc.in" @ONLY)
install(CODE "
    set(DEVFLOW_INSTALL_TIME_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/devflow.pc.in\"
                   \"${PROJECT_BINARY_DIR}/install-time/devflow.pc\" @ONLY)
    " COMPONENT devflow)
install(FILES "${PROJECT_BINARY_DIR}/install-time/devflow.pc"
        DESTINATION "${DEVFLOW_INSTALL_PKGCONFIGDIR}" COMPONENT devflow)

unset(_devflow_adapter_dirs)
unset(_devflow_pc_includedir)
unset(_dir)
unset(_name)
