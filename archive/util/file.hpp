#pragma once

#include <archive/util/bytes.hpp>

#include <filesystem>
#include <string>

namespace avow {

// Read the whole regular file at `path`; not_found if missing, invalid_input if it is a directory
// or not a regular file, io otherwise. Refuses files larger than `max_bytes` with invalid_input.
Expected<std::string> read_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

enum class FileMode : unsigned { private_0600 = 0600, public_0644 = 0644 };
enum class Overwrite { no, yes };

// Write `data` to `path` atomically (temp file in the same folder, fsync, rename). With
// Overwrite::no the call fails with already_exists if `path` exists. The file is created with
// `mode` from the start (never briefly more open).
Expected<void> write_file_atomic(const std::filesystem::path& path, std::string_view data, FileMode mode,
                                 Overwrite overwrite);

} // namespace avow
