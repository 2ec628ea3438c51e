# Third-party dependencies, all from Debian 12 packages (scripts/bootstrap installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Boost 1.74 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
# jemalloc for the hearthnet binary: glibc malloc costs ~14 % of a node's CPU on the signed
# call path across its threads; jemalloc cuts the node's CPU per call by ~8 % (bench/RESULTS.md).
# Not under sanitizers, which bring their own allocator.
if(NOT HN_SANITIZE)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
if(HN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# BLAKE3: the official C implementation that Debian ships inside librust-blake3-dev,
# compiled here with its x86-64 assembly kernels and runtime SIMD dispatch.
file(GLOB HN_BLAKE3_DIRS LIST_DIRECTORIES true /usr/share/cargo/registry/blake3-*/c)
list(SORT HN_BLAKE3_DIRS)
list(POP_BACK HN_BLAKE3_DIRS HN_BLAKE3_DIR)
if(NOT HN_BLAKE3_DIR OR NOT EXISTS ${HN_BLAKE3_DIR}/blake3.h)
  message(FATAL_ERROR "BLAKE3 C sources not found: run scripts/bootstrap (librust-blake3-dev)")
endif()
set(HN_BLAKE3_SOURCES ${HN_BLAKE3_DIR}/blake3.c ${HN_BLAKE3_DIR}/blake3_dispatch.c
    ${HN_BLAKE3_DIR}/blake3_portable.c)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND HN_BLAKE3_SOURCES
       ${HN_BLAKE3_DIR}/blake3_sse2_x86-64_unix.S ${HN_BLAKE3_DIR}/blake3_sse41_x86-64_unix.S
       ${HN_BLAKE3_DIR}/blake3_avx2_x86-64_unix.S ${HN_BLAKE3_DIR}/blake3_avx512_x86-64_unix.S)
  set(HN_BLAKE3_DEFS "")
else()
  set(HN_BLAKE3_DEFS BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
add_library(hn_blake3 STATIC ${HN_BLAKE3_SOURCES})
target_include_directories(hn_blake3 SYSTEM PUBLIC ${HN_BLAKE3_DIR})
target_compile_definitions(hn_blake3 PRIVATE ${HN_BLAKE3_DEFS})
target_compile_options(hn_blake3 PRIVATE -O3)
set_target_properties(hn_blake3 PROPERTIES C_STANDARD 11)
include(cmake/HnLlama.cmake)
