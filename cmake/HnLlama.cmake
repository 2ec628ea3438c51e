# llama.cpp: the in-process LLM and embedding engine (DESIGN.md stack; doc/design/llama.md).
#
# Default: scripts/llama-cpp-fetch builds a pinned llama.cpp (the source the npm package
# node-llama-cpp ships as llama/gitRelease.bundle) once per machine into a versioned cache
# outside the checkout, and returns at once when that cache is warm.
#   -DHN_LLAMA_CPP_DIR=<prefix>   use an installed llama.cpp instead (its lib/cmake/llama
#                                 package; llama-server from <prefix>/bin when present).
#   -DHN_LLAMA_CPP_VOCAB_DIR=DIR  where ggml-vocab-*.gguf live (for the tiny test models).
#
# Gives: the target hn::llama (llama + ggml, static, CPU), HN_LLAMA_SERVER (path to the
# llama-server binary, or empty) and HN_LLAMA_VOCAB_DIR.
set(HN_LLAMA_CPP_DIR "" CACHE PATH "Use an installed llama.cpp at this prefix instead of the fetched one")
set(HN_LLAMA_CPP_VOCAB_DIR "" CACHE PATH "Folder with llama.cpp's ggml-vocab-*.gguf files")

if(HN_LLAMA_CPP_DIR)
  find_package(llama CONFIG REQUIRED PATHS ${HN_LLAMA_CPP_DIR} NO_DEFAULT_PATH)
  add_library(hn_llama INTERFACE)
  target_link_libraries(hn_llama INTERFACE llama)
  find_program(HN_LLAMA_SERVER llama-server PATHS ${HN_LLAMA_CPP_DIR}/bin NO_DEFAULT_PATH)
  if(NOT HN_LLAMA_SERVER)
    set(HN_LLAMA_SERVER "")
  endif()
  set(HN_LLAMA_VOCAB_DIR "${HN_LLAMA_CPP_VOCAB_DIR}")
else()
  execute_process(
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/llama-cpp-fetch
    OUTPUT_VARIABLE hn_llama_out
    RESULT_VARIABLE hn_llama_rc)
  if(NOT hn_llama_rc EQUAL 0)
    message(FATAL_ERROR "scripts/llama-cpp-fetch failed (${hn_llama_rc}); see its output above")
  endif()
  string(STRIP "${hn_llama_out}" hn_llama_out)
  string(REGEX REPLACE ".*\n" "" HN_LLAMA_PREFIX "${hn_llama_out}")
  message(STATUS "llama.cpp: ${HN_LLAMA_PREFIX}")
  add_library(hn_llama INTERFACE)
  target_include_directories(hn_llama SYSTEM INTERFACE ${HN_LLAMA_PREFIX}/include)
  # Order matters for static archives: llama, then ggml's front, CPU backend, base.
  target_link_libraries(hn_llama INTERFACE
    ${HN_LLAMA_PREFIX}/lib/libllama.a ${HN_LLAMA_PREFIX}/lib/libggml.a
    ${HN_LLAMA_PREFIX}/lib/libggml-cpu.a ${HN_LLAMA_PREFIX}/lib/libggml-base.a
    Threads::Threads ${CMAKE_DL_LIBS} m)
  set(HN_LLAMA_SERVER "${HN_LLAMA_PREFIX}/bin/llama-server")
  if(HN_LLAMA_CPP_VOCAB_DIR)
    set(HN_LLAMA_VOCAB_DIR "${HN_LLAMA_CPP_VOCAB_DIR}")
  else()
    set(HN_LLAMA_VOCAB_DIR "${HN_LLAMA_PREFIX}/models")
  endif()
endif()
add_library(hn::llama ALIAS hn_llama)
