#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace avow::text {

// Return what private key material `text` holds, e.g. "a PEM 'RSA PRIVATE KEY' block", or nullopt when none.
// Recognised: a line with `-----BEGIN <label>-----` (or the SSH2 form `---- BEGIN <label> ----`) whose label ends
// in PRIVATE KEY (PKCS#8, ENCRYPTED, RSA, EC, DSA, OPENSSH, SSH2 ENCRYPTED ...) or is PGP PRIVATE KEY BLOCK, a PuTTY
// key file header, and the base64 of an OpenSSH private key ("openssh-key-v1") even without its armour.
// A statement is public for ever once archived: a key pasted or pointed to by mistake must never become one.
std::optional<std::string> private_key_material(std::string_view text);

} // namespace avow::text
