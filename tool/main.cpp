#include "app.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) try {
  return avow::tool::run(argc, argv);
} catch (const std::exception& e) {
  std::fprintf(stderr, "avow: error: internal error: %s\n", e.what());
  return avow::tool::exit_code::internal;
}
