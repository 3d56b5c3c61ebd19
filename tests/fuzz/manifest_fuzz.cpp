// The JSONL manifest reader (archive/manifest.hpp): any bytes either fail with invalid_input or give statements that
// each have a source and a label naming the manifest's line; a `path` can only read inside the manifest's folder
// (a temporary folder holding one file, whose bytes are the only ones a path may bring in).

#include <archive/manifest.hpp>
#include <tests/fuzz/fuzz_check.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace {

constexpr std::string_view k_file_bytes = "A statement read from a file.\n";

// A folder with one file (in.txt), removed at exit.
struct Folder {
  std::filesystem::path path;
  Folder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "avow-fuzz-manifest-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path = tmpl;
    std::ofstream(path / "in.txt", std::ios::binary) << k_file_bytes;
  }
  ~Folder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  static const Folder folder;
  const std::string_view input = fuzz::as_view(data, size);

  const auto statements = parse_manifest(input, "fuzz.jsonl", folder.path);
  if (!statements) {
    AVOW_FUZZ_CHECK(statements.error().code == ErrorCode::invalid_input);
    return 0;
  }
  AVOW_FUZZ_CHECK(!statements->empty());
  AVOW_FUZZ_CHECK(statements->size() <= static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n')) + 1);
  for (const auto& s : *statements) {
    AVOW_FUZZ_CHECK(!s.source.empty());
    AVOW_FUZZ_CHECK(s.label.starts_with("fuzz.jsonl:"));
  }
  return 0;
}
