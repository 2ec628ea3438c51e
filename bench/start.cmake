# X02 §5.4 start-to-ready over a long log, without and with a snapshot (include() from bench/CMakeLists.txt).
add_executable(hn_bench_start ${CMAKE_CURRENT_LIST_DIR}/start_bench.cpp)
target_link_libraries(hn_bench_start PRIVATE hn_events)
hn_set_warnings(hn_bench_start)
