// avow: the command. Network commands are handed over to the avow-net helper first (tool/core/forward.hpp).

#include "app.hpp"
#include "core/forward.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) try {
  avow::tool::hand_over_network_command(argc, argv);
  return avow::tool::run(argc, argv);
} catch (const std::exception& e) {
  std::fprintf(stderr, "avow: error: internal error: %s\n", e.what());
  return avow::tool::exit_code::internal;
}
