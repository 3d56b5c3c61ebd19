#include "cli.hpp"

#include <archive/util/file.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fcntl.h>
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

std::optional<crypto::SecretBytes> read_tty_secret(const char* prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  termios old{};
  const bool is_tty = ::tcgetattr(fd, &old) == 0;
  if (is_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!::write(fd, prompt, std::strlen(prompt));
  std::string buf;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') buf.push_back(c);
  (void)!::write(fd, "\n", 1);
  if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  crypto::SecretBytes out(buf);
  std::fill(buf.begin(), buf.end(), '\0');
  return out;
}

std::optional<crypto::SecretBytes> passphrase_from_env_or_file(const std::string& file) {
  if (const char* env = std::getenv("AVOW_PASSPHRASE"); env) return crypto::SecretBytes(env);
  if (!file.empty()) {
    auto data = read_file(file, 4096);
    if (!data) return std::nullopt;
    std::string s = std::move(*data);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    crypto::SecretBytes out(s);
    std::fill(s.begin(), s.end(), '\0');
    return out;
  }
  return std::nullopt;
}

} // namespace

crypto::PassphraseSource passphrase_source(const Globals& g) {
  const std::string file = g.passphrase_file;
  return [file]() -> std::optional<crypto::SecretBytes> {
    if (auto p = passphrase_from_env_or_file(file)) return p;
    return read_tty_secret("avow: passphrase for the key: ");
  };
}

Expected<crypto::SecretBytes> new_passphrase(const Globals& g, bool ask) {
  if (auto p = passphrase_from_env_or_file(g.passphrase_file)) return std::move(*p);
  if (!g.passphrase_file.empty())
    return fail(ErrorCode::key, "cannot read passphrase file '{}'", g.passphrase_file);
  if (!ask) return crypto::SecretBytes{};
  auto first = read_tty_secret("avow: new passphrase: ");
  if (!first) return fail(ErrorCode::key, "no terminal to ask for a passphrase: set AVOW_PASSPHRASE or --passphrase-file");
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
  if (archive) return std::move(*archive);
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
