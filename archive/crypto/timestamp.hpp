#pragma once

// RFC 3161 time-stamp requests and responses (OpenSSL TS API, private to archive/crypto/timestamp.cpp).
// avow time-stamps checkpoint bodies: the imprint is always SHA-256.

#include <archive/crypto/sha256.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>
#include <archive/util/time.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace avow::crypto {

// Largest TimeStampResp or TimeStampReq accepted, in bytes: a response is a CMS SignedData with a few certificates,
// a few KB; anything much larger is not a token.
inline constexpr std::size_t k_max_timestamp_bytes = 64 * 1024;
// Largest CA/certificate PEM file read for checking tokens.
inline constexpr std::size_t k_max_tsa_cert_bytes = 1024 * 1024;

// Return a DER TimeStampReq (RFC 3161 §2.4.1): version 1, imprint SHA-256 `digest`, a random 64-bit nonce,
// certReq true, no policy. crypto error only if OpenSSL fails.
Expected<std::string> timestamp_request(const Digest& digest);

// What a granted TimeStampResp says.
struct TimestampInfo {
  SysSeconds gen_time{};            // genTime, truncated to whole seconds
  std::string gen_time_text;        // genTime as RFC 3339 UTC (whole seconds)
  std::string hash_algorithm;       // "sha256" (anything else is refused)
  Digest imprint{};                 // messageImprint.hashedMessage
  std::string serial;               // serialNumber, hex
  std::string policy;               // policy OID, dotted
  std::string tsa_name;             // the TSA GeneralName as OpenSSL prints it, "" when absent
  std::string signer;               // subject of the signer certificate (one-line), "" when not included
  std::string status;               // "granted" or "grantedWithMods"
};

// Parse a DER TimeStampResp strictly: the whole input is one response, its status is granted (or grantedWithMods),
// it carries a token whose TSTInfo has a SHA-256 imprint. invalid_input otherwise, naming the status and its text
// for a refusal ("rejection: bad data format"). Hostile input safe; at most k_max_timestamp_bytes.
Expected<TimestampInfo> parse_timestamp_response(std::string_view der);

// Check a parsed response against the TSA CA certificates in `ca_pem` (one or more PEM certificates, the trust
// anchors; the response's own certificates are the untrusted chain): the CMS signature, the signer certificate
// chain up to a given CA with the timeStamping EKU, the ESS signing-certificate, the version and that the imprint is
// `digest`. Returns the reason on failure: key error (exit 5) when the signature or chain does not verify (the
// certificates do not vouch for the TSA), invalid_input when `ca_pem` holds no certificate or the imprint differs.
Expected<void> verify_timestamp_response(std::string_view der, const Digest& digest, std::string_view ca_pem);

} // namespace avow::crypto
