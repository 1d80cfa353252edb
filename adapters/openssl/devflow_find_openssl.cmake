# Finds OpenSSL 1.1.1 or later and provides its imported target
# OpenSSL::Crypto. Sets DEVFLOW_OPENSSL_FOUND. Usable from devflow's own
# build and from an installed package config.
set(DEVFLOW_OPENSSL_FOUND FALSE)
find_package(OpenSSL 1.1.1 QUIET)
if(OpenSSL_FOUND AND TARGET OpenSSL::Crypto)
    set(DEVFLOW_OPENSSL_FOUND TRUE)
endif()
