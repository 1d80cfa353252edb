// devflow — library version.
#pragma once

#define DEVFLOW_VERSION_MAJOR 0
#define DEVFLOW_VERSION_MINOR 1
#define DEVFLOW_VERSION_PATCH 0
/// "MAJOR.MINOR.PATCH", e.g. for a User-Agent.
#define DEVFLOW_VERSION_STRING "0.1.0"
