# M07 chunking throughput vs `b3sum --num-threads 1` (include() from bench/CMakeLists.txt).
add_executable(hn_bench_blob_hash ${CMAKE_CURRENT_LIST_DIR}/blob_hash_bench.cpp)
target_link_libraries(hn_bench_blob_hash PRIVATE hn_blobs)
hn_set_warnings(hn_bench_blob_hash)
