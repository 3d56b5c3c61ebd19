#pragma once

// A C2SP tlog-witness (https://c2sp.org/tlog-witness): the state machine of `add-checkpoint`, without HTTP.
//
// A witness folder (docs/FORMAT.md §19) holds:
//   witness.conf      "name <key name>", "key <private key file>", one "log <vkey>" per trusted log
//   witness.key       the Ed25519 private key (PKCS#8 PEM, 0600) unless witness.conf names another file
//   witness.vkey      the C2SP vkey of the witness (type 0x04), one line
//   witness.pub       the same public key as an SPKI PEM
//   lock              flock'ed by the process that has the witness loaded (one at a time)
//   state/<hex SHA-256 of the origin>.checkpoint
//                     per log: the latest checkpoint the witness cosigned, the signed note verbatim
// A state file is replaced atomically (temp file, fsync, rename, fsync of state/) before a cosignature is returned.

#include <archive/crypto/ed25519.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/note.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow::witness {

// The largest add-checkpoint body accepted: a checkpoint with its signature lines and 63 proof hashes fit well within.
inline constexpr std::size_t k_max_request_bytes = 64 * 1024;
// C2SP tlog-witness: a client sends at most 63 consistency proof lines.
inline constexpr std::size_t k_max_proof_lines = 63;
inline constexpr std::string_view k_size_content_type = "text/x.tlog.size";
inline constexpr std::string_view k_config_file = "witness.conf";
inline constexpr std::string_view k_key_file = "witness.key";
inline constexpr std::string_view k_vkey_file = "witness.vkey";
inline constexpr std::string_view k_pub_file = "witness.pub";
inline constexpr std::string_view k_state_dir = "state";
inline constexpr std::string_view k_lock_file = "lock";

struct InitOptions {
  std::filesystem::path dir;                     // created (0700); must not exist or be an empty folder
  std::vector<std::string> log_vkeys;            // C2SP vkeys (type 0x01) of the trusted logs; the name is the origin
  std::optional<std::string> name;               // the witness's key name; "avow-witness-<hex8 of key id>" if absent
  std::optional<std::filesystem::path> key;      // an existing private key file; generated into DIR/witness.key if absent
};

struct InitResult {
  std::filesystem::path dir;
  std::string name;
  std::string vkey;                              // "<name>+<hex8>+<base64(0x04 || key)>"
  std::filesystem::path key_file;
  bool generated_key = false;
  std::vector<std::string> origins;              // of the trusted logs, in the order given
};

// Create a witness folder. invalid_input for a malformed vkey (or one of type 0x04), a duplicate origin, an invalid
// name, no --log; already_exists if `dir` is a file or a non-empty folder; key errors for an unusable key file.
Expected<InitResult> init(const InitOptions& options);

// An add-checkpoint request body, parsed: "old <size>\n", proof lines, "\n", the signed checkpoint note.
struct Request {
  std::uint64_t old_size = 0;
  std::vector<Bytes> proof;
  std::string checkpoint;                        // the signed note, verbatim
};
// Parse a request body strictly (C2SP tlog-witness); invalid_input naming what is wrong.
Expected<Request> parse_request(std::string_view body);
// Return the request body for `request`.
std::string format_request(const Request& request);

// The answer to one request, as HTTP would send it.
struct Reply {
  int status = 500;
  std::string content_type;                      // "text/plain; charset=utf-8" or text/x.tlog.size
  std::string body;
  std::string origin;                            // for the log line; empty when the checkpoint did not parse
  std::uint64_t size = 0;                        // of the submitted checkpoint
  std::string detail;                            // one line: why, or "cosigned"
};

// The latest checkpoint cosigned for one log.
struct LogState {
  std::uint64_t size = 0;
  log::Hash root{};
  std::string note;                              // the signed checkpoint, verbatim
};

class Witness {
public:
  // Load the witness folder `dir`: its config, its private key and every state file. failed_precondition (exit 4)
  // when a file is missing or malformed, or when a state file does not parse or does not verify under its log's key:
  // the witness then refuses to start (its state is never reset silently).
  static Expected<Witness> load(const std::filesystem::path& dir);

  Witness(Witness&&) noexcept;
  Witness& operator=(Witness&&) noexcept;
  ~Witness();

  // Handle one add-checkpoint request body at POSIX time `now` (the cosignature timestamp). One request at a time:
  // checking against the state and persisting the new one happen under one lock. The new state is on disk (fsynced)
  // before a 200 reply is returned; every other reply leaves the state files as they were.
  //   200 cosignature line; 400 malformed body or old size > checkpoint size; 403 no signature by a trusted key of
  //   the origin; 404 unknown origin; 409 old size is not the witness's size, or same size with a different root
  //   (body "<size>\n", text/x.tlog.size); 422 the consistency proof does not verify; 500 the state cannot be written.
  Reply add_checkpoint(std::string_view body, std::uint64_t now);

  // Called after a new state is persisted and before the reply is built (a test hook for crashes).
  void set_after_persist(std::function<void()> hook);

  const std::string& name() const;
  std::string vkey() const;
  const std::filesystem::path& dir() const;
  std::vector<std::string> origins() const;
  // The state of the log `origin`, if the witness cosigned one of its checkpoints.
  std::optional<LogState> state(std::string_view origin) const;

  struct Impl;

private:
  explicit Witness(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The state file of `origin` under `dir`: state/<hex SHA-256 of origin>.checkpoint.
std::filesystem::path state_path(const std::filesystem::path& dir, std::string_view origin);

} // namespace avow::witness
