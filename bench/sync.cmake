# X02 event sync throughput into an empty node vs raw append_received_batch (include() from
# bench/CMakeLists.txt).
add_executable(hn_bench_sync ${CMAKE_CURRENT_LIST_DIR}/sync_bench.cpp)
target_link_libraries(hn_bench_sync PRIVATE hn_events)
hn_set_warnings(hn_bench_sync)
# The allocator the hearthnet binary ships with, so the bench measures the product's path.
if(TARGET PkgConfig::JEMALLOC)
  target_link_libraries(hn_bench_sync PRIVATE PkgConfig::JEMALLOC)
endif()
