#pragma once

// The HTTP face of a witness (C2SP tlog-witness): `POST /add-checkpoint` over plain HTTP, a thin wrapper around
// Witness::add_checkpoint. cpp-httplib stays behind this header.

#include <archive/util/error.hpp>
#include <archive/witness/witness.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace avow::witness {

struct ServeOptions {
  std::string listen;                              // "HOST:PORT"; port 0 picks a free port
  std::chrono::seconds read_timeout{10};           // per request, reading the body
  std::chrono::seconds write_timeout{10};
  // Called once the socket is bound, with the address and port bound ("127.0.0.1", 41234).
  std::function<void(const std::string& host, int port)> on_listening;
  // Called with one line per request (no '\n').
  std::function<void(const std::string& line)> log;
};

// Serve `witness` until SIGTERM or SIGINT (blocked in the calling thread and in the server's threads, and waited for
// by a thread of its own), then return. invalid_input for a malformed listen address; io when the address cannot be
// bound (port in use). Requests over k_max_request_bytes get 413; paths other than /add-checkpoint 404; methods
// other than POST 405.
Expected<void> serve(Witness& witness, const ServeOptions& options);

} // namespace avow::witness
