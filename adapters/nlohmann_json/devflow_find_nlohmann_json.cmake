# Finds nlohmann/json 3.10 or later and provides its imported target
# nlohmann_json::nlohmann_json. Sets DEVFLOW_NLOHMANN_JSON_FOUND. Usable from
# devflow's own build and from an installed package config, so both find the
# same thing the same way.
set(DEVFLOW_NLOHMANN_JSON_FOUND FALSE)
find_package(nlohmann_json 3.10 QUIET)
if(nlohmann_json_FOUND AND TARGET nlohmann_json::nlohmann_json)
    set(DEVFLOW_NLOHMANN_JSON_FOUND TRUE)
endif()
