# Finds libsecret-1 0.18 or later with pkg-config and provides its imported
# target PkgConfig::DEVFLOW_LIBSECRET (libsecret, GLib, GIO). Sets
# DEVFLOW_SECRET_SERVICE_FOUND. Usable from devflow's own build and from an
# installed package config, so both find the same thing the same way.
set(DEVFLOW_SECRET_SERVICE_FOUND FALSE)
if(NOT TARGET PkgConfig::DEVFLOW_LIBSECRET)
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
        pkg_check_modules(DEVFLOW_LIBSECRET QUIET IMPORTED_TARGET GLOBAL libsecret-1>=0.18)
    endif()
endif()
if(TARGET PkgConfig::DEVFLOW_LIBSECRET)
    set(DEVFLOW_SECRET_SERVICE_FOUND TRUE)
endif()
