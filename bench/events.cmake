# X02 event log append rates vs raw libsodium sign/verify (include() from bench/CMakeLists.txt).
add_executable(hn_bench_event_append ${CMAKE_CURRENT_LIST_DIR}/event_append_bench.cpp)
target_link_libraries(hn_bench_event_append PRIVATE hn_events)
hn_set_warnings(hn_bench_event_append)
