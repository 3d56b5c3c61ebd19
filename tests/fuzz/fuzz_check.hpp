#pragma once

// What every target of tests/fuzz shares: an invariant check that aborts (so libFuzzer saves the input as a crash,
// and the seed-corpus replay of `make test` fails) and the entry point each target defines.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace avow::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
  std::abort();
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace avow::fuzz

// Abort with the condition's text when `cond` is false; kept in release builds.
#define AVOW_FUZZ_CHECK(cond) ((cond) ? void(0) : ::avow::fuzz::fail(#cond, __FILE__, __LINE__))
