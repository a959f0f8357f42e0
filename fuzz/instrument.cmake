# Included by the top-level CMakeLists.txt when PORTCULLIS_FUZZ=ON, before any library: a fuzz
# build directory instruments every library (coverage for libFuzzer, ASan + UBSan), so a target
# gets feedback from all the code it reaches. Build only the *_fuzz targets in such a directory.
# Under clang: -fsanitize=fuzzer. Under g++ (clang 14 cannot build this C++23 code base): g++
# trace-pc/trace-cmp coverage, clang's libFuzzer runtime, and fuzz/gcc_coverage_shim.cc.
set(PC_FUZZ_SANITIZERS -fsanitize=address,undefined -fno-omit-frame-pointer)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fsanitize=fuzzer-no-link ${PC_FUZZ_SANITIZERS})
  set(PC_FUZZ_LINK -fsanitize=fuzzer ${PC_FUZZ_SANITIZERS})
  set(PC_FUZZ_RUNTIME)
  set(PC_FUZZ_RUNTIME_LIB)
else()
  file(GLOB PC_LIBFUZZER_CANDIDATES
    /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
  if(NOT PC_LIBFUZZER_CANDIDATES)
    message(FATAL_ERROR "PORTCULLIS_FUZZ with g++ needs libclang-rt (libclang_rt.fuzzer-x86_64.a)")
  endif()
  list(SORT PC_LIBFUZZER_CANDIDATES ORDER DESCENDING)
  list(GET PC_LIBFUZZER_CANDIDATES 0 PC_LIBFUZZER)
  message(STATUS "libFuzzer runtime: ${PC_LIBFUZZER}")
  add_compile_options(-fsanitize-coverage=trace-pc,trace-cmp ${PC_FUZZ_SANITIZERS})
  set(PC_FUZZ_LINK -Wl,--wrap=__sanitizer_cov_trace_pc ${PC_FUZZ_SANITIZERS})
  set(PC_FUZZ_RUNTIME ${CMAKE_CURRENT_LIST_DIR}/gcc_coverage_shim.cc)
  set(PC_FUZZ_RUNTIME_LIB ${PC_LIBFUZZER})
endif()
