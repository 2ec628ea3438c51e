# RAG corpus store: CorpusStore::query p50/p95 at 10k and 100k chunks, hybrid and lexical,
# against brute-force exact cosine in the same run (include() from bench/CMakeLists.txt).
if(TARGET hn_service_rag)
  add_executable(hn_bench_rag_query ${CMAKE_CURRENT_LIST_DIR}/rag_query_bench.cpp)
  target_link_libraries(hn_bench_rag_query PRIVATE hn_service_rag)
  hn_set_warnings(hn_bench_rag_query)
endif()
