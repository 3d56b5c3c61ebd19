// avow-net: the helper that runs avow's network commands (capture, watch, timestamp, witness, cosign) for the avow
// command, which hands their command lines over unchanged (tool/core/forward.cpp). It holds the whole command tree,
// so it also runs any other command the same way avow does.

#include "tool/app.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) try {
  return avow::tool::run(argc, argv);
} catch (const std::exception& e) {
  std::fprintf(stderr, "avow: error: internal error: %s\n", e.what());
  return avow::tool::exit_code::internal;
}
