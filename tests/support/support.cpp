#include <tests/support/support.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/log/tiles.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/store/git_store.hpp>
#include <archive/util/bytes.hpp>
#include <archive/verify/log_reader.hpp>

#include <archive/proof_bundle.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <sstream>
#include <sys/wait.h>
#include <csignal>
#include <thread>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

extern char** environ;

namespace avow::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  const auto base = fs::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto p = base / ("avow-test-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      m_path = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info && info->result() && info->result()->Failed()) {
    std::fprintf(stderr, "kept temporary folder of failed test: %s\n", m_path.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

std::vector<std::string> blobs_in_pack_order(const fs::path& idx) {
  std::vector<std::pair<std::uint64_t, std::string>> blobs;
  std::istringstream lines(run_process({"git", "verify-pack", "-v", idx.string()}).out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string oid, type;
    std::uint64_t size = 0, packed = 0, offset = 0;
    if (f >> oid >> type >> size >> packed >> offset && type == "blob") blobs.emplace_back(offset, oid);
  }
  std::sort(blobs.begin(), blobs.end());
  std::vector<std::string> out;
  for (auto& [offset, oid] : blobs) out.push_back(std::move(oid));
  return out;
}

RunResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                      const std::map<std::string, std::string>& env, const fs::path& cwd) {
  return run_process_killed_after(argv, std::chrono::microseconds::max(), stdin_data, env, cwd);
}

RunResult run_process_killed_after(const std::vector<std::string>& argv, std::chrono::microseconds kill_after,
                                   const std::string& stdin_data, const std::map<std::string, std::string>& env,
                                   const fs::path& cwd) {
  const bool timed = kill_after != std::chrono::microseconds::max();
  const auto deadline = std::chrono::steady_clock::now() + (timed ? kill_after : std::chrono::microseconds(0));
  bool killed = false;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  RunResult r;
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  while (out_fd >= 0 || err_fd >= 0) {
    std::vector<pollfd> fds;
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    int wait_ms = -1;
    if (timed && !killed) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        ::kill(pid, SIGKILL);
        killed = true;
      } else {
        // Poll in slices of 1 ms, and sleep out the last fraction, so that the deadline is met to well under 1 ms.
        if (left < std::chrono::milliseconds(1)) {
          std::this_thread::sleep_for(left);
          continue;
        }
        wait_ms = 1;
      }
    }
    if (::poll(fds.data(), fds.size(), wait_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (const auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == in_fd) {
        const ssize_t n = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n < 0 && errno != EAGAIN) written = stdin_data.size();
        if (written >= stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      const ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(p.fd);
        (p.fd == out_fd ? out_fd : err_fd) = -1;
        continue;
      }
      (p.fd == out_fd ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  if (timed && !killed) {
    // The streams closed before the deadline (the child may still be exiting): kill it at the deadline all the same.
    for (;;) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return r;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string avow_bin() {
  const char* bin = std::getenv("AVOW_BIN");
  if (bin && *bin) return bin;
  return AVOW_BUILT_BIN; // the binary built next to the tests
}

bool long_tests() {
  const char* v = std::getenv("AVOW_LONG_TESTS");
  return v && *v && std::string(v) != "0";
}

void write_file(const fs::path& path, const std::string& data) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string test_data(const std::string& name) { return read_file(fs::path(AVOW_SOURCE_DIR) / "tests" / "data" / name); }

std::optional<fs::path> shared_dir() {
  const fs::path p = AVOW_SHARED_DIR;
  std::error_code ec;
  if (fs::is_directory(p, ec)) return p;
  return std::nullopt;
}

TempArchive::TempArchive(std::string origin) {
  m_dir = m_tmp / "archive";
  m_config = m_tmp / "config";
  auto r = avow_raw({"init", m_dir.string(), "--origin", origin});
  if (r.exit_code != 0) throw std::runtime_error("avow init failed: " + r.err);
}

std::map<std::string, std::string> TempArchive::env() const {
  return {{"XDG_CONFIG_HOME", m_config.string()}, {"HOME", m_tmp.path().string()}, {"GIT_CONFIG_NOSYSTEM", "1"},
          {"GIT_AUTHOR_NAME", "tamper"},          {"GIT_AUTHOR_EMAIL", "t@example.org"},
          {"GIT_COMMITTER_NAME", "tamper"},       {"GIT_COMMITTER_EMAIL", "t@example.org"}};
}

RunResult TempArchive::avow(const std::vector<std::string>& args, const std::string& stdin_data) const {
  std::vector<std::string> argv{avow_bin(), "-C", m_dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, stdin_data, env());
}

RunResult TempArchive::avow_raw(const std::vector<std::string>& args, const std::string& stdin_data) const {
  std::vector<std::string> argv{avow_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, stdin_data, env());
}

RunResult TempArchive::git(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"git", "-C", m_dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {}, env());
}

std::string TempArchive::file(const std::string& name, const std::string& data) const {
  const auto p = m_tmp / name;
  write_file(p, data);
  return p.string();
}

RunResult TempArchive::archive_file(const std::string& text, const std::vector<std::string>& extra) const {
  static int counter = 0;
  const auto f = m_tmp / ("input-" + std::to_string(++counter) + ".txt");
  write_file(f, text);
  std::vector<std::string> args{"archive", f.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return avow(args);
}

std::string TempArchive::archive_text(const std::string& text, const std::vector<std::string>& extra) {
  static int counter = 0;
  const auto file = m_tmp / ("statement-" + std::to_string(++counter) + ".txt");
  write_file(file, text);
  std::vector<std::string> args{"archive", file.string(), "--source", "https://example.org/s/" + std::to_string(counter)};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = avow(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string id = r.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

std::string TempArchive::state() const {
  std::string s = git({"rev-parse", "refs/heads/main"}).out;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(m_dir))
    if (e.is_regular_file() && e.path().string().find("/.git/avow/") == std::string::npos &&
        e.path().filename() != "index" && e.path().filename() != "ORIG_HEAD")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) s += f.string() + "\n" + read_file(f) + "\n";
  return s;
}

std::string TempArchive::git_snapshot() const {
  std::string s = git({"rev-parse", "main"}).out;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(m_dir / ".git"))
    if (e.is_regular_file() && !e.path().filename().string().starts_with("index.sqlite")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) s += f.string() + "\n" + read_file(f) + "\n";
  return s;
}

std::string TempArchive::git_show(const std::string& path) const {
  auto r = git({"cat-file", "blob", "refs/heads/main:" + path});
  if (r.exit_code != 0) throw std::runtime_error("git cat-file failed for " + path + ": " + r.err);
  return r.out;
}

void TempArchive::git_replace(const std::string& path, const std::string& data, const std::string& message) const {
  const auto blob_file = m_tmp / "tamper.blob";
  write_file(blob_file, data);
  auto env_vars = env();
  env_vars["GIT_INDEX_FILE"] = (m_tmp / "tamper.index").string();
  const auto g = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"git", "-C", m_dir.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, {}, env_vars);
    if (r.exit_code != 0) throw std::runtime_error("git failed: " + r.err);
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  };
  const std::string blob = g({"hash-object", "-w", blob_file.string()});
  g({"read-tree", "refs/heads/main"});
  g({"update-index", "--add", "--cacheinfo", "100644," + blob + "," + path});
  const std::string tree = g({"write-tree"});
  const std::string commit = g({"commit-tree", tree, "-p", "refs/heads/main", "-m", message});
  g({"update-ref", "refs/heads/main", commit});
}

void TempArchive::git_flip_byte(const std::string& path, long offset) const {
  std::string data = git_show(path);
  if (data.empty()) throw std::runtime_error("empty blob " + path);
  const std::size_t at = offset < 0 ? data.size() - static_cast<std::size_t>(-offset) : static_cast<std::size_t>(offset);
  data.at(at) = static_cast<char>(data.at(at) ^ 0x01);
  git_replace(path, data, "tamper: flip a byte of " + path);
}

std::vector<std::string> log_entries(const fs::path& dir) {
  auto store = store::GitStore::open(dir);
  if (!store) throw std::runtime_error("cannot open " + dir.string() + ": " + store.error().message);
  auto head = store->head();
  if (!head || !*head) throw std::runtime_error("no head in " + dir.string());
  auto config = verify::read_config(*store, **head);
  if (!config) throw std::runtime_error(config.error().message);
  auto verifier = verify::log_verifier(*config);
  if (!verifier) throw std::runtime_error(verifier.error().message);
  auto cp = verify::read_checkpoint(*store, **head, *verifier, config->origin);
  if (!cp) throw std::runtime_error(cp.error().message);
  auto entries = verify::read_entries(*store, **head, cp->checkpoint.size);
  if (!entries) throw std::runtime_error(entries.error().message);
  return *entries;
}

void append_raw_entries(const fs::path& dir, const std::vector<std::string>& envelopes, const RawAppend& how) {
  const auto check = [](auto&& r, const char* what) {
    if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  };
  auto store = store::GitStore::open(dir);
  check(store, "open");
  auto head = store->head();
  check(head, "head");
  const store::Oid base = **head;
  auto config = verify::read_config(*store, base);
  check(config, "config");
  auto verifier = verify::log_verifier(*config);
  check(verifier, "log verifier");
  auto cp = verify::read_checkpoint(*store, base, *verifier, config->origin);
  check(cp, "checkpoint");
  auto key_file = store->config_get("avow.logkey");
  check(key_file, "avow.logkey");
  auto log_key =
      crypto::read_private_key(how.log_key ? *how.log_key : fs::path(key_file->value()), [] { return std::nullopt; });
  check(log_key, "log key");
  // The key state after the new entries, as a writer keeps it (key events applied when they apply).
  std::optional<record::KeyState> keys;
  if (cp->keys) {
    keys = *cp->keys;
    for (std::size_t k = 0; k < envelopes.size(); ++k) {
      auto env = record::parse(envelopes[k]);
      if (!env || env->signatures.empty()) continue;
      auto value = json::parse_canonical(env->payload);
      if (!value) continue;
      auto event = record::key_event_from_json(*value);
      if (event) (void)record::apply(*keys, *event, env->signatures[0].keyid, cp->checkpoint.size + k);
    }
  }
  const log::TileReader reader = [&](const std::string& path) -> Expected<Bytes> {
    auto data = store->read(base, std::string(record::k_log_prefix) + path);
    if (!data) return std::unexpected(data.error());
    return Bytes(data->begin(), data->end());
  };
  auto plan = log::plan_append(cp->checkpoint.size, envelopes, reader);
  check(plan, "plan");
  auto tx = store->begin();
  check(tx, "begin");
  for (const auto& path : plan->removes) check(tx->remove(std::string(record::k_log_prefix) + path), "remove");
  for (const auto& w : plan->writes)
    check(tx->put(std::string(record::k_log_prefix) + w.path, to_string(w.data)), "put");
  log::Checkpoint next{config->origin, plan->new_size, plan->root, {}};
  if (keys && how.key_state) {
    next.extensions.push_back(record::key_state_extension(*keys));
    check(tx->put(record::k_key_state_path, record::key_state_json(*keys)), "put log/keys");
  }
  for (const auto& [path, data] : how.files) check(tx->put(path, data), "put file");
  auto note = log::sign_note(log::checkpoint_text(next), config->origin, *log_key);
  check(note, "sign checkpoint");
  check(tx->put(record::k_checkpoint_path, *note), "put checkpoint");
  const std::string message = "avow: raw append (test)\n\nAvow-Tree-Size: " + std::to_string(plan->new_size) + "\n";
  auto commit = tx->commit(message, [&](std::string_view buffer) {
    return crypto::sshsig_sign(*log_key, "git", as_bytes(buffer));
  });
  check(commit, "commit");
}

void make_legacy_copy(const fs::path& from, const fs::path& to) {
  const auto check = [](auto&& r, const char* what) {
    if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  };
  auto src = store::GitStore::open(from);
  check(src, "open");
  auto head = src->head();
  check(head, "head");
  auto info = src->commit_info(**head);
  check(info, "commit");
  if (!info->parents.empty()) throw std::runtime_error("make_legacy_copy wants a one-commit archive");
  auto config = verify::read_config(*src, **head);
  check(config, "config");
  auto verifier = verify::log_verifier(*config);
  check(verifier, "log verifier");
  auto cp = verify::read_checkpoint(*src, **head, *verifier, config->origin);
  check(cp, "checkpoint");
  auto log_file = src->config_get("avow.logkey");
  check(log_file, "avow.logkey");
  auto key_file = src->config_get("avow.key");
  check(key_file, "avow.key");
  auto log_key = crypto::read_private_key(fs::path(log_file->value()), [] { return std::nullopt; });
  check(log_key, "log key");
  auto files = src->list(**head, "");
  check(files, "list");
  auto dst = store::GitStore::init(to);
  check(dst, "init");
  auto tx = dst->begin();
  check(tx, "begin");
  for (const auto& [path, size] : *files) {
    if (path == record::k_key_state_path || path == record::k_checkpoint_path) continue;
    auto data = src->read(**head, path);
    check(data, "read");
    check(tx->put(path, *data), "put");
  }
  const log::Checkpoint legacy{config->origin, cp->checkpoint.size, cp->checkpoint.root, {}};
  auto note = log::sign_note(log::checkpoint_text(legacy), config->origin, *log_key);
  check(note, "sign checkpoint");
  check(tx->put(record::k_checkpoint_path, *note), "put checkpoint");
  auto commit = tx->commit(info->message, [&](std::string_view buffer) {
    return crypto::sshsig_sign(*log_key, "git", as_bytes(buffer));
  });
  check(commit, "commit");
  check(dst->config_set("avow.logkey", log_file->value()), "config");
  check(dst->config_set("avow.key", key_file->value()), "config");
}

void expect_every_bit_flip_unproven(const std::string& bundle, const std::string& policy) {
  std::size_t refused = 0;
  for (std::size_t i = 0; i < bundle.size(); ++i) {
    std::string damaged = bundle;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 << (i % 8)));
    auto r = verify_bundle(damaged, policy, std::nullopt);
    ASSERT_TRUE(r) << "offset " << i << ": " << r.error().message;
    EXPECT_FALSE(r->proven) << "a flipped bit at offset " << i << " still verified: ..."
                            << bundle.substr(i < 40 ? 0 : i - 40, 80);
    refused += !r->proven;
  }
  EXPECT_EQ(refused, bundle.size());
}

int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace avow::test
