// Verify an avow archive with the library alone: open it, run the full verification, print what was checked.
// Exit 0 when verified clean, 1 when problems were found (each printed), 2 on usage, 3 when the archive cannot be
// read at all.

#include <archive/archive.hpp>
#include <archive/version.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: avow-verify-example ARCHIVE\n");
    return 2;
  }
  std::printf("avow library %s\n", avow::version().c_str());
  auto report = avow::Archive::verify_dir(argv[1], avow::verify::Options{});
  if (!report) {
    std::fprintf(stderr, "cannot verify '%s': %s\n", argv[1], report.error().message.c_str());
    return 3;
  }
  for (const auto& p : report->problems) std::printf("problem %s: %s\n", p.kind.c_str(), p.message.c_str());
  std::printf("origin %s, %llu entries, %llu statements: %s\n", report->origin.c_str(),
              static_cast<unsigned long long>(report->entries), static_cast<unsigned long long>(report->statements),
              report->ok() ? "verified" : "PROBLEMS FOUND");
  return report->ok() ? 0 : 1;
}
