# The etcd adapter needs no third-party library: it speaks etcd's v3 JSON
# gateway through devflow's own Http policy. It needs threads (the lease's
# keep-alive thread). Sets DEVFLOW_ETCD_FOUND.
set(DEVFLOW_ETCD_FOUND FALSE)
find_package(Threads QUIET)
if(TARGET Threads::Threads)
    set(DEVFLOW_ETCD_FOUND TRUE)
endif()
