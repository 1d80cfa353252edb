# Finds libcurl 7.68 or later and provides its imported target CURL::libcurl.
# Sets DEVFLOW_CURL_FOUND. Usable from devflow's own build and from an
# installed package config, so both find the same thing the same way.
set(DEVFLOW_CURL_FOUND FALSE)
find_package(CURL 7.68 QUIET)
if(CURL_FOUND AND TARGET CURL::libcurl)
    set(DEVFLOW_CURL_FOUND TRUE)
endif()
