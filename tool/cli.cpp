#include "cli.hpp"
#include "progress.hpp"

#include <archive/util/file.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <iterator>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace avow::tool {

int exit_code_for(const Error& e) {
  switch (e.code) {
  case ErrorCode::invalid_input: return exit_code::invalid_input;
  case ErrorCode::not_found: return exit_code::invalid_input;
  case ErrorCode::already_exists: return exit_code::archive_state;
  case ErrorCode::failed_precondition: return exit_code::archive_state;
  case ErrorCode::key: return exit_code::key;
  case ErrorCode::io: return exit_code::io;
  case ErrorCode::git: return exit_code::io;
  case ErrorCode::crypto: return exit_code::io;
  case ErrorCode::internal: return exit_code::internal;
  }
  return exit_code::internal;
}

int report(const Error& e) {
  std::string msg = e.message;
  for (auto& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "avow: error: %s\n", msg.c_str());
  return exit_code_for(e);
}

void warn(const Globals& g, std::string_view message) {
  if (g.quiet) return;
  std::fprintf(stderr, "avow: warning: %.*s\n", static_cast<int>(message.size()), message.data());
}

void note(const Globals& g, std::string_view message) {
  if (g.quiet) return;
  std::fprintf(stderr, "avow: note: %.*s\n", static_cast<int>(message.size()), message.data());
}

std::string for_stdout(std::string_view text) {
  static const bool tty = ::isatty(STDOUT_FILENO) != 0;
  if (!tty) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f)) {
      // C1 controls are U+0080..U+009F, encoded C2 80..C2 9F.
      if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
          static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
        out += "\xEF\xBF\xBD";
        ++i;
        continue;
      }
      out += static_cast<char>(c);
    } else if (c == 0x7f) {
      out += "\xEF\xBF\xBD";
    } else {
      // U+2400 + c: the control picture, E2 90 80+c.
      out += "\xE2\x90";
      out += static_cast<char>(0x80 + c);
    }
  }
  return out;
}

void print_json(const nlohmann::json& j) {
  const std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

namespace {

// A passphrase is at most this long (a file or a line typed at the prompt).
constexpr std::size_t k_max_passphrase = 4096;

// A fixed buffer wiped on scope exit: secrets are read into it, never into a growing std::string whose old
// allocations would keep copies nobody wipes.
struct WipedChars {
  char data[k_max_passphrase + 1];
  ~WipedChars() { crypto::wipe_secret(data, sizeof data); }
};

// The signal that interrupted a prompt (0: none). Set by the handler, acted on after the terminal is restored.
volatile std::sig_atomic_t g_prompt_signal = 0;
extern "C" void on_prompt_signal(int sig) { g_prompt_signal = sig; }

// Ask for a secret on the controlling terminal with echo off; nullopt when there is no terminal. An interrupt (Ctrl-C,
// SIGTERM, SIGHUP, SIGQUIT) during the prompt restores the terminal's echo first, then ends the process as the signal
// would have.
std::optional<crypto::SecretBytes> read_tty_secret(const char* prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  termios old{};
  const bool is_tty = ::tcgetattr(fd, &old) == 0;
  if (!is_tty) {
    ::close(fd);
    return std::nullopt;
  }
  constexpr int k_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  struct sigaction previous[std::size(k_signals)] = {};
  struct sigaction catcher {};
  catcher.sa_handler = on_prompt_signal;
  sigemptyset(&catcher.sa_mask);
  catcher.sa_flags = 0; // no SA_RESTART: the read below returns EINTR
  g_prompt_signal = 0;
  for (std::size_t i = 0; i < std::size(k_signals); ++i) ::sigaction(k_signals[i], &catcher, &previous[i]);

  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  (void)!::write(fd, prompt, std::strlen(prompt));
  WipedChars buf;
  std::size_t len = 0;
  bool ended = false;
  char c = 0;
  while (g_prompt_signal == 0) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1) break;
    if (c == '\n') {
      ended = true;
      break;
    }
    if (len < k_max_passphrase) buf.data[len++] = c;
  }
  c = 0;
  ::tcsetattr(fd, TCSAFLUSH, &old);
  for (std::size_t i = 0; i < std::size(k_signals); ++i) ::sigaction(k_signals[i], &previous[i], nullptr);
  if (const int sig = g_prompt_signal; sig != 0) {
    (void)!::write(fd, "\n", 1);
    ::close(fd);
    crypto::wipe_secret(buf.data, sizeof buf.data);
    ::raise(sig); // the previous disposition (by default: end the process)
    return std::nullopt;
  }
  ::close(fd);
  if (!ended && len == 0) return std::nullopt; // end of input at the prompt: give up
  if (len > 0 && buf.data[len - 1] == '\r') --len;
  return crypto::SecretBytes(std::string_view(buf.data, len));
}

// Return strerror(e) in lowercase, as error messages want it.
std::string errno_text(int e) {
  std::string s = std::strerror(e);
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Read the passphrase file `file`: its first line, without the "\n" or "\r\n" that ends it (as `openssl -passin
// file:` reads it). key error if it cannot be read, is not a regular file, is over 4096 bytes or the line is empty.
Expected<crypto::SecretBytes> read_passphrase_file(const std::string& file) {
  // O_NONBLOCK: a FIFO must not hang us (refused below as not a regular file).
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fail(ErrorCode::key, "cannot read passphrase file '{}': {}", file,
                errno == ENOENT ? std::string("no such file") : errno_text(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::key, "cannot read passphrase file '{}': not a regular file", file);
  }
  WipedChars buf;
  std::size_t len = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data + len, sizeof buf.data - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return fail(ErrorCode::key, "cannot read passphrase file '{}': {}", file, errno_text(e));
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
    if (len == sizeof buf.data) break;
  }
  ::close(fd);
  if (len > k_max_passphrase)
    return fail(ErrorCode::key, "cannot read passphrase file '{}': longer than {} bytes", file, k_max_passphrase);
  // The first line, as `openssl -passin file:` reads it, so one file serves both.
  if (const void* nl = std::memchr(buf.data, '\n', len)) len = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.data);
  if (len > 0 && buf.data[len - 1] == '\r') --len;
  if (len == 0) return fail(ErrorCode::key, "cannot read passphrase file '{}': its first line is empty", file);
  return crypto::SecretBytes(std::string_view(buf.data, len));
}

// The passphrase from AVOW_PASSPHRASE or the passphrase file, nullopt when neither is given.
Expected<std::optional<crypto::SecretBytes>> passphrase_from_env_or_file(const std::string& file) {
  if (const char* env = std::getenv("AVOW_PASSPHRASE"); env) return crypto::SecretBytes(env);
  if (file.empty()) return std::optional<crypto::SecretBytes>{};
  auto p = read_passphrase_file(file);
  if (!p) return std::unexpected(p.error());
  return std::move(*p);
}

} // namespace

crypto::PassphraseSource passphrase_source(const Globals& g) {
  const std::string file = g.passphrase_file;
  return [file]() -> Expected<std::optional<crypto::SecretBytes>> {
    auto p = passphrase_from_env_or_file(file);
    if (!p || *p) return p;
    return read_tty_secret("avow: passphrase for the key: ");
  };
}

Expected<crypto::SecretBytes> new_passphrase(const Globals& g, bool ask) {
  auto given = passphrase_from_env_or_file(g.passphrase_file);
  if (!given) return std::unexpected(given.error());
  if (*given) return std::move(**given);
  if (!ask) return crypto::SecretBytes{};
  auto first = read_tty_secret("avow: new passphrase: ");
  if (!first) return fail(ErrorCode::key, "no terminal to ask for a passphrase: set AVOW_PASSPHRASE_FILE or --passphrase-file");
  auto second = read_tty_secret("avow: repeat the passphrase: ");
  if (!second || second->size() != first->size() ||
      !std::equal(first->data(), first->data() + first->size(), second->data()))
    return fail(ErrorCode::key, "the passphrases do not match");
  if (first->empty()) return fail(ErrorCode::key, "empty passphrase");
  return std::move(*first);
}

std::filesystem::path archive_dir(const Globals& g) { return g.archive.empty() ? std::filesystem::path(".") : std::filesystem::path(g.archive); }

Expected<Archive> open_archive(const Globals& g) { return Archive::open(archive_dir(g)); }

std::optional<Archive> open_or_report(Globals& g) {
  auto archive = open_archive(g);
  if (archive) {
    archive->set_index_progress(index_progress(g));
    return std::move(*archive);
  }
  g.exit_code = report(archive.error());
  return std::nullopt;
}

Expected<std::string> read_stdin(std::uint64_t limit) {
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, stdin);
    data.append(buf, n);
    if (data.size() > limit) return fail(ErrorCode::invalid_input, "standard input is over the limit of {} bytes", limit);
    if (n < sizeof buf) {
      if (std::ferror(stdin)) return fail(ErrorCode::io, "cannot read standard input");
      break;
    }
  }
  return data;
}

} // namespace avow::tool
