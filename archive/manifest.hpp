#pragma once

#include <archive/archive.hpp>

#include <filesystem>
#include <string_view>
#include <vector>

namespace avow {

// Largest manifest accepted, in bytes.
inline constexpr std::uint64_t k_max_manifest_bytes = 1024ull * 1024 * 1024;

// Parse a JSONL manifest: one JSON object per line with `text` or `path` (relative to `base_dir`), `source`, and
// optionally `publisher`, `published`, `tz`, `title`, `lang`, `encoding`, `supersedes` and `meta` (object of
// strings). Any other member with a string value is kept in meta; empty strings count as absent. Blank lines are
// skipped. Any bad line fails the whole manifest with invalid_input "NAME:LINE: why".
Expected<std::vector<StatementInput>> parse_manifest(std::string_view content, std::string_view name,
                                                      const std::filesystem::path& base_dir);

} // namespace avow
