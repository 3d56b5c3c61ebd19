#pragma once

#include <archive/json/jcs.hpp>
#include <archive/util/error.hpp>

#include <string>
#include <string_view>

// Where things live in an archive's git tree (SPEC section 5), shared by the writer and the verifier.
namespace avow::record {

inline constexpr std::string_view k_config_path = "avow.json";
inline constexpr std::string_view k_archive_format = "avow.archive/1";
inline constexpr std::string_view k_checkpoint_path = "log/checkpoint";
inline constexpr std::string_view k_log_prefix = "log/";
inline constexpr std::string_view k_tile_prefix = "log/tile/";
inline constexpr std::string_view k_timestamps_prefix = "log/timestamps/";
inline constexpr std::string_view k_keys_prefix = "keys/";
inline constexpr std::string_view k_allowed_signers_path = "keys/allowed_signers";
inline constexpr std::string_view k_texts_prefix = "texts/";
inline constexpr std::string_view k_originals_prefix = "originals/";

// Return "texts/<h0h1>/<h2h3>/<h>" for the lowercase hex SHA-256 `sha256_hex` of a canonical text.
std::string text_path(std::string_view sha256_hex);
// Return "originals/<h0h1>/<h2h3>/<h>" for the SHA-256 of original bytes.
std::string original_path(std::string_view sha256_hex);
// Return "keys/<key id>.pem".
std::string key_path(std::string_view key_id);
// True if `s` is exactly 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s);

// avow.json: what an archive is. The log key is named by its C2SP vkey, so anyone can check checkpoints with it.
struct ArchiveConfig {
  std::string origin;      // checkpoint origin and signed-note key name
  std::string log_vkey;    // C2SP vkey of the log key: "<origin>+<hex8>+<base64(0x01||pk)>"
  std::string log_key_id;  // avow key id (hex SHA-256 of the raw public key)
};
// Return the JCS bytes of `config` followed by one LF.
Expected<std::string> serialize_config(const ArchiveConfig& config);
// Parse avow.json strictly (canonical JCS + one LF, exact members, known format); invalid_input otherwise.
Expected<ArchiveConfig> parse_config(std::string_view text);

// True if `origin` is usable as a checkpoint origin and key name: 1..255 bytes of printable ASCII, no space, no '+'.
bool is_valid_origin(std::string_view origin);

} // namespace avow::record
