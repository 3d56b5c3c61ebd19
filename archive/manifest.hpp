#pragma once

#include <archive/archive.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace avow {

// Largest manifest accepted, in bytes.
inline constexpr std::uint64_t k_max_manifest_bytes = 1024ull * 1024 * 1024;

// Whether a manifest's `path` may name a file outside the manifest's folder.
enum class OutsidePaths { refuse, allow };

// Parse a JSONL manifest: one JSON object per line with `text` or `path`, `source`, and optionally `publisher`,
// `published`, `tz`, `title`, `lang`, `encoding`, `supersedes` and `meta` (object of strings). Any other member
// with a string value is kept in meta; empty strings count as absent. Blank lines are skipped. Any bad line fails
// the whole manifest with invalid_input "NAME:LINE: why".
//
// A `path` is relative to `base_dir` (the manifest's folder) and, unless `outside` is allow, must stay inside it:
// an absolute path, a `..` that climbs out, or a symbolic link anywhere on the way that resolves outside is refused
// ("path '...' is outside the manifest's folder"). The check compares canonical paths (symlinks resolved), and the
// file read is the resolved one. A manifest is often written by someone else: without this, one line could archive
// the archivist's private key or any file the user can read as a signed, permanent statement.
//
// Names: a name given both as a member and in `meta`, a `meta` key that is one of the member names above, and two
// names (members or meta keys) equal but for ASCII case are refused, whatever order they come in; so is an extra
// member that differs from a member name above only in case ("Source"). Nothing is silently dropped or renamed.
Expected<std::vector<StatementInput>> parse_manifest(std::string_view content, std::string_view name,
                                                      const std::filesystem::path& base_dir,
                                                      OutsidePaths outside = OutsidePaths::refuse);

// One line of a manifest (its line ending removed, not blank), as parse_manifest reads it; `where` ("NAME:LINE")
// labels the input and starts every error message.
Expected<StatementInput> parse_manifest_line(std::string_view line, const std::string& where,
                                             const std::filesystem::path& base_dir,
                                             OutsidePaths outside = OutsidePaths::refuse);

// A manifest read a line at a time, for Archive::append: the same rules and messages as parse_manifest, but a large
// manifest is never all in memory. open() reads it once to count its statements (for progress), and refuses one that
// holds none or is over k_max_manifest_bytes; next() then parses one line at a time, failing at the first bad one.
// A manifest that is not a regular file (a pipe) is read into memory whole, as it cannot be read twice.
class ManifestReader final : public InputSource {
 public:
  // `file` names the manifest in labels and messages; `path` members are relative to its folder.
  static Expected<std::unique_ptr<ManifestReader>> open(const std::filesystem::path& file,
                                                        OutsidePaths outside = OutsidePaths::refuse);
  ~ManifestReader() override;
  ManifestReader(const ManifestReader&) = delete;
  ManifestReader& operator=(const ManifestReader&) = delete;

  Expected<std::optional<StatementInput>> next() override;
  std::uint64_t count() const override { return m_count; }

 private:
  ManifestReader(std::string name, std::filesystem::path base_dir, OutsidePaths outside);
  // The next line without its '\n', nullopt at the end.
  Expected<std::optional<std::string_view>> read_line();

  std::string m_name;
  std::filesystem::path m_base_dir;
  OutsidePaths m_outside;
  std::string m_content; // the whole manifest, when it is not a regular file
  std::FILE* m_file = nullptr;
  char* m_line = nullptr; // getline's buffer
  std::size_t m_capacity = 0;
  std::uint64_t m_line_no = 0;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_count = 0;
};

} // namespace avow
