#pragma once

// Shared by the tool's commands: global options, output, and the one table from ErrorCode to exit code.

#include <archive/archive.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace avow::tool {

// Exit codes are public API (docs/exit-codes.md); never renumber them.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int problems = 1;     // verification or check found a problem, or no match
inline constexpr int usage = 2;
inline constexpr int invalid_input = 3;
inline constexpr int archive_state = 4;
inline constexpr int key = 5;
inline constexpr int io = 6;
inline constexpr int internal = 70;
} // namespace exit_code

struct Globals {
  std::string archive;            // -C, --archive (env AVOW_ARCHIVE), default "."
  std::string key;                // --key (env AVOW_KEY)
  std::string passphrase_file;    // --passphrase-file (env AVOW_PASSPHRASE_FILE)
  bool json = false;
  bool quiet = false;
  unsigned jobs = 0;
  int exit_code = 0;
};

// Map a library error to its exit code.
int exit_code_for(const Error& e);
// Print "avow: error: <message>" to stderr and return the exit code for `e`.
int report(const Error& e);
// Print "avow: warning: <message>" to stderr unless quiet.
void warn(const Globals& g, std::string_view message);
// Print "avow: note: <message>" to stderr unless quiet: what the tool did that the user should know.
void note(const Globals& g, std::string_view message);
// Return archived text fit for stdout: unchanged when stdout is a file or a pipe (the bytes are evidence), but with
// control characters other than LF and TAB shown as their U+2400 pictures (C1 and DEL as U+FFFD) when stdout is a
// terminal, so a hostile text cannot drive the terminal with escape sequences.
std::string for_stdout(std::string_view text);
// Print a JSON document on stdout (one line, UTF-8).
void print_json(const nlohmann::json& j);

// Return the passphrase source: AVOW_PASSPHRASE, then --passphrase-file, then a prompt on the terminal.
crypto::PassphraseSource passphrase_source(const Globals& g);
// Return the archive folder from the global options.
std::filesystem::path archive_dir(const Globals& g);
// Open the archive named by the global options.
Expected<Archive> open_archive(const Globals& g);
// Open it, or report why not (setting the exit code) and return nullopt.
std::optional<Archive> open_or_report(Globals& g);
// Read all of standard input, refusing more than `limit` bytes (invalid_input).
Expected<std::string> read_stdin(std::uint64_t limit);
// Return the passphrase to encrypt a new key with: AVOW_PASSPHRASE, --passphrase-file, or asked twice on the
// terminal when `ask` is set; empty (no encryption) otherwise.
Expected<crypto::SecretBytes> new_passphrase(const Globals& g, bool ask);

void add_init(CLI::App& app, Globals& g);
void add_archive(CLI::App& app, Globals& g);
void add_verify(CLI::App& app, Globals& g);
void add_show(CLI::App& app, Globals& g);
void add_key(CLI::App& app, Globals& g);
void add_proof(CLI::App& app, Globals& g);
void add_checkpoint(CLI::App& app, Globals& g);
void add_query(CLI::App& app, Globals& g);
void add_repack(CLI::App& app, Globals& g);
void add_timestamp(CLI::App& app, Globals& g);
void add_site(CLI::App& app, Globals& g);
void add_remote(CLI::App& app, Globals& g);
void add_witness(CLI::App& app, Globals& g);
void add_capture(CLI::App& app, Globals& g);
void add_watch(CLI::App& app, Globals& g);

// The network commands: they need libcurl, gumbo or cpp-httplib, which the avow command does not load (30 ms of every
// start on a small machine). The avow-net helper runs them: its add_timestamp, add_witness (witness and cosign),
// add_capture and add_watch are the real ones; the avow command's (tool/core/forward.cpp) add placeholders with the
// same names and descriptions that hand the whole command line over to the helper (docs/ARCHITECTURE.md).
inline constexpr const char* k_about_capture = "Fetch a web page, keep the exchange as WARC, archive its main text.";
inline constexpr const char* k_about_watch = "Fetch the archive's web sources again; record edits, report removals.";
inline constexpr const char* k_about_timestamp =
    "RFC 3161 trusted time: have a time-stamp authority vouch for checkpoints.";
inline constexpr const char* k_about_witness =
    "Run a C2SP tlog-witness that cosigns the checkpoints of logs it trusts.";
inline constexpr const char* k_about_cosign =
    "Ask witnesses to cosign the current checkpoint; store their cosignatures.";

} // namespace avow::tool
