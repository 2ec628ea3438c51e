# Marketplace view: market.list / market.search p50/p95 with 100k posts (include() from bench/CMakeLists.txt).
add_executable(hn_bench_market ${CMAKE_CURRENT_LIST_DIR}/market_bench.cpp)
target_link_libraries(hn_bench_market PRIVATE hn_service_market)
hn_set_warnings(hn_bench_market)
