#pragma once

#include <archive/json/jcs.hpp>
#include <archive/util/error.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

// The statement record (SPEC section 4): the DSSE payload that says what was captured, from where, when and by whom.
// Its bytes are the RFC 8785 form of its JSON value, so every writer produces the same bytes and the record id
// (SHA-256 of those bytes) names one record only. Field rules are in schema/record.schema.json.
namespace avow::record {

inline constexpr std::string_view k_format = "avow.record/1";
inline constexpr std::string_view k_kind_statement = "statement";
inline constexpr std::string_view k_payload_type = "application/vnd.avow.record+json";
inline constexpr std::size_t k_max_envelope_bytes = 65535, k_max_title_bytes = 1024, k_max_meta_bytes = 16384;
// Byte counts stay at or below 2^53 - 1, the largest integer every JSON reader holds exactly (RFC 7493 section 2.2).
inline constexpr std::uint64_t k_max_json_integer = (std::uint64_t{1} << 53) - 1;
// Longest meta key, in bytes.
inline constexpr std::size_t k_max_meta_key_bytes = 256;

struct TextRef {
  std::string sha256;              // SHA-256 of the canonical text, 64 lowercase hex
  std::uint64_t bytes = 0;         // its length, >= 1
  std::optional<std::string> lang; // BCP 47 tag
  friend bool operator==(const TextRef&, const TextRef&) = default;
};
struct OriginalRef {
  std::string sha256;   // SHA-256 of the bytes as captured, 64 lowercase hex; differs from the text's
  std::uint64_t bytes = 0;
  std::string encoding; // the encoding they were read in ("UTF-8", "windows-1256", ...)
  // A media type when the original is not the text's own bytes: "application/warc" for a web capture (FORMAT.md
  // §6.2), whose final response's payload was decoded with `encoding` to extract the text. Absent otherwise.
  std::optional<std::string> type = std::nullopt;
  friend bool operator==(const OriginalRef&, const OriginalRef&) = default;
};
struct Source {
  std::string uri;                      // IRI with a scheme; raw non-ASCII allowed
  std::optional<std::string> publisher; // single line
  friend bool operator==(const Source&, const Source&) = default;
};
struct Published {
  std::string as_written;               // verbatim, single line
  std::optional<std::string> utc;       // "YYYY-MM-DDTHH:MM:SS[.frac]Z", only when the zone is known
  std::optional<std::string> local;     // "YYYY-MM-DDTHH:MM:SS[.frac]" or "YYYY-MM-DD" (no offset)
  std::optional<std::string> tz;        // IANA zone name or the offset as written ("+03:00", "GMT")
  // The calendar as_written was read in, when not Gregorian: "islamic-umalqura" (a BCP 47 "ca" value); utc and local
  // are then Gregorian all the same. Absent in records written before it existed and for Gregorian dates.
  std::optional<std::string> calendar = std::nullopt;
  friend bool operator==(const Published&, const Published&) = default;
};
struct Statement {
  TextRef text;
  std::optional<OriginalRef> original;
  std::optional<std::string> title; // single line, 1..1024 bytes
  Source source;
  std::optional<Published> published;
  std::string captured;                  // RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ"
  std::string archivist;                 // key id, 64 lowercase hex
  std::optional<std::string> supersedes; // record id, 64 lowercase hex
  std::map<std::string, std::string> meta; // keys: single line, 1..256 bytes; keys + values <= 16 KiB

  friend bool operator==(const Statement&, const Statement&) = default;
};
// Return the record as a JSON value {"format":"avow.record/1","kind":"statement",...}; absent optionals are omitted,
// meta is omitted when empty. Validates first; invalid_input as validate.
Expected<json::Value> to_json(const Statement& s);

// Parse a statement record strictly: required fields, exact types (byte counts are integers, not 1.0), no unknown
// fields at any level, format "avow.record/1" and kind "statement", then every rule of validate. invalid_input
// "record: <field> ..." naming the field otherwise.
Expected<Statement> from_json(const json::Value& v);

// Check every field rule on `s` (used before writing): 64 lowercase hex for text.sha256, original.sha256, archivist and
// supersedes; byte counts 1..2^53-1; original differs from text; lang a language tag; encoding a charset name;
// title 1..1024 bytes, single line; source.uri an IRI with a scheme; publisher and published.as_written non-empty, single
// line; published.utc/local/tz in their forms, published.calendar a BCP 47 calendar name other than "gregory", only with
// published.local; captured "YYYY-MM-DDTHH:MM:SSZ" (a real date); meta keys 1..256 bytes
// single line, values valid UTF-8, keys and values together at most 16 KiB. invalid_input "record: ..." otherwise.
Expected<void> validate(const Statement& s);

// Return the JCS payload bytes of `s` (equal to json::canonicalize(*to_json(s)), written directly). invalid_input as
// validate.
Expected<std::string> payload(const Statement& s);

// Parse payload bytes: canonical JCS (json::parse_canonical) holding a valid statement (from_json); invalid_input
// otherwise.
Expected<Statement> parse_payload(std::string_view payload);

// Record id: lowercase hex SHA-256 of the payload bytes.
std::string record_id(std::string_view payload);

} // namespace avow::record
