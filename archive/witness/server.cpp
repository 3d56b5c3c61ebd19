#include <archive/witness/server.hpp>

#include <archive/util/time.hpp>

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <pthread.h>
#include <sys/socket.h>
#include <thread>

namespace avow::witness {

namespace {

// The outcome of the request being handled on this thread, for the logger (which runs right after, on the same thread).
thread_local std::string t_detail;

// Block SIGINT and SIGTERM in this thread (and the threads it starts) for the scope; the old mask is restored after.
class BlockStopSignals {
public:
  BlockStopSignals() {
    sigemptyset(&m_set);
    sigaddset(&m_set, SIGINT);
    sigaddset(&m_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &m_set, &m_old);
  }
  ~BlockStopSignals() { pthread_sigmask(SIG_SETMASK, &m_old, nullptr); }
  BlockStopSignals(const BlockStopSignals&) = delete;
  BlockStopSignals& operator=(const BlockStopSignals&) = delete;
  const sigset_t& set() const { return m_set; }

private:
  sigset_t m_set{};
  sigset_t m_old{};
};

} // namespace

Expected<void> serve(Witness& witness, const ServeOptions& options) {
  const std::size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0)
    return fail(ErrorCode::invalid_input, "invalid listen address '{}': want HOST:PORT, such as 127.0.0.1:8080",
                options.listen);
  std::string host = options.listen.substr(0, colon);
  const std::string_view port_text = std::string_view(options.listen).substr(colon + 1);
  if (auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      ec != std::errc{} || p != port_text.data() + port_text.size() || port < 0 || port > 65535)
    return fail(ErrorCode::invalid_input, "invalid port in listen address '{}': want 0 to 65535", options.listen);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  const BlockStopSignals blocked;
  httplib::Server server;
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second server share the port.
  server.set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_payload_max_length(k_max_request_bytes);
  server.set_read_timeout(options.read_timeout);
  server.set_write_timeout(options.write_timeout);
  server.set_keep_alive_timeout(5);

  server.Post("/add-checkpoint", [&witness](const httplib::Request& req, httplib::Response& res) {
    const auto now = static_cast<std::uint64_t>(now_seconds().time_since_epoch().count());
    Reply reply = witness.add_checkpoint(req.body, now);
    res.status = reply.status;
    res.set_content(reply.body, reply.content_type);
    t_detail = reply.origin.empty() ? reply.detail
                                    : fmt::format("origin={} size={} {}", reply.origin, reply.size, reply.detail);
  });
  server.Get("/add-checkpoint", [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST");
    res.set_content("use POST\n", "text/plain; charset=utf-8");
    t_detail = "method not allowed";
  });
  server.set_logger([&options](const httplib::Request& req, const httplib::Response& res) {
    if (options.log)
      options.log(fmt::format("{} {} {} {} {} {}", format_rfc3339_utc(now_seconds()), req.remote_addr, req.method,
                              req.path, res.status, t_detail.empty() ? std::string("-") : t_detail));
    t_detail.clear();
  });

  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) return fail(ErrorCode::io, "cannot listen on {}: the address is in use or not local", options.listen);
  if (options.on_listening) options.on_listening(host, bound);

  // SIGINT/SIGTERM stop the server: a thread waits for them (they are blocked everywhere else).
  std::atomic<bool> done{false};
  // stop() does nothing before the accept loop runs, so a signal that arrives early is acted on until the loop ends.
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&blocked.set(), &sig);
    while (!done.load()) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const bool ok = server.listen_after_bind();
  done.store(true);
  pthread_kill(stopper.native_handle(), SIGTERM); // wake the waiter if the server stopped by itself
  stopper.join();
  if (!ok) return fail(ErrorCode::io, "the server on {} stopped on an error", options.listen);
  return {};
}

} // namespace avow::witness
