#pragma once

#include <expected>

#include <fmt/format.h>
#include <string>
#include <utility>

namespace avow {

// Every failure the library reports as a value. The tool maps each code to one exit code
// (docs/exit-codes.md); nothing else in the library knows about exit codes.
enum class ErrorCode {
  invalid_input,       // malformed statement, metadata, manifest, JSON (exit 3)
  not_found,           // a named thing does not exist (record id, file) (exit 3 or 4 by context)
  already_exists,      // init over an existing archive (exit 4)
  failed_precondition, // archive state: not an archive, locked, moved ref (exit 4)
  key,                 // key missing, unreadable, wrong type, permissions (exit 5)
  io,                  // file system failure (exit 6)
  git,                 // libgit2 failure (exit 6)
  crypto,              // OpenSSL failure that is not the caller's input (exit 6)
  internal,            // a bug (exit 70)
};

struct Error {
  ErrorCode code;
  std::string message; // "cannot read key 'k.pem': permission denied": lowercase, no trailing period
};

template <class T> using Expected = std::expected<T, Error>;

// Return an unexpected Error with a formatted message: `return fail(ErrorCode::io, "cannot read '{}'", p);`
template <class... Args>
std::unexpected<Error> fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected<Error>(Error{code, fmt::format(format, std::forward<Args>(args)...)});
}

} // namespace avow
