# Finds Boost 1.81 or later (headers: Asio and Beast; 1.74 lacks
# per-operation cancellation) and OpenSSL, and provides Boost::headers,
# OpenSSL::SSL and OpenSSL::Crypto. Sets DEVFLOW_ASIO_FOUND. Usable from
# devflow's own build and from an installed package config.
set(DEVFLOW_ASIO_FOUND FALSE)
find_package(Boost 1.81 CONFIG QUIET)
find_package(OpenSSL QUIET)
find_package(Threads QUIET)
if(Boost_FOUND AND TARGET Boost::headers AND OpenSSL_FOUND AND TARGET OpenSSL::SSL AND TARGET Threads::Threads)
    set(DEVFLOW_ASIO_FOUND TRUE)
endif()
