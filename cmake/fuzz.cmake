# Fuzzing and clang portability (tests/fuzz/README.md).
#
# clang (16) with Debian 12's libstdc++ 12: <expected> is guarded by __cpp_concepts >= 202002L, which clang 16 does
# not define yet although it compiles what <expected> needs; defining it is what lets clang build std::expected.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
  add_compile_options(-Wno-macro-redefined -D__cpp_concepts=202002L)
endif()

# AVOW_FUZZ: every layer is compiled with libFuzzer's coverage instrumentation, ASan and UBSan (fuzzer-no-link); the
# targets of tests/fuzz link libFuzzer's main (-fsanitize=fuzzer). Only clang has libFuzzer.
if(AVOW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AVOW_FUZZ needs clang (e.g. -DCMAKE_CXX_COMPILER=clang++-16), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  set(avow_fuzz_flags -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(avow_options INTERFACE ${avow_fuzz_flags})
  target_link_options(avow_options INTERFACE -fsanitize=address,undefined)
endif()
