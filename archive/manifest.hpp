#pragma once

#include <archive/archive.hpp>

#include <filesystem>
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

} // namespace avow
