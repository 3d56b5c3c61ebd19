#include <archive/witness/witness.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/util/file.hpp>

#include <algorithm>
#include <charconv>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace avow::witness {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_text = "text/plain; charset=utf-8";
constexpr std::uintmax_t k_max_config_bytes = 1024 * 1024;

struct TrustedLog {
  std::string vkey;
  log::Verifier verifier; // type 0x01; the name is the origin
};

struct Config {
  std::string name;
  fs::path key_file;
  std::vector<TrustedLog> logs;
};

std::string format_config(const Config& c) {
  std::string out = "# avow witness configuration (docs/FORMAT.md section 19)\n";
  out += "name " + c.name + "\n";
  out += "key " + c.key_file.string() + "\n";
  for (const auto& l : c.logs) out += "log " + l.vkey + "\n";
  return out;
}

Expected<TrustedLog> parse_log_vkey(std::string_view vkey) {
  auto v = log::parse_vkey(vkey);
  if (!v) return fail(ErrorCode::invalid_input, "invalid log vkey '{}': {}", vkey, v.error().message);
  if (v->type != log::k_sig_ed25519)
    return fail(ErrorCode::invalid_input, "log vkey '{}' is not an Ed25519 (type 0x01) log key", vkey);
  return TrustedLog{std::string(vkey), std::move(*v)};
}

Expected<Config> parse_config(std::string_view text, const fs::path& dir) {
  Config c;
  std::size_t number = 0;
  bool have_key = false;
  while (!text.empty()) {
    ++number;
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty() || line.starts_with('#')) continue;
    const std::size_t sp = line.find(' ');
    const std::string_view keyword = line.substr(0, sp);
    const std::string_view value = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    auto bad = [&](std::string_view why) {
      return fail(ErrorCode::failed_precondition, "{} line {}: {}", (dir / k_config_file).string(), number, why);
    };
    if (value.empty()) return bad("want '<keyword> <value>'");
    if (keyword == "name") {
      if (!c.name.empty()) return bad("second name line");
      if (!log::is_valid_key_name(value)) return bad(fmt::format("invalid key name '{}'", value));
      c.name = std::string(value);
    } else if (keyword == "key") {
      if (have_key) return bad("second key line");
      c.key_file = fs::path(std::string(value));
      if (c.key_file.is_relative()) c.key_file = dir / c.key_file;
      have_key = true;
    } else if (keyword == "log") {
      auto l = parse_log_vkey(value);
      if (!l) return bad(l.error().message);
      if (std::any_of(c.logs.begin(), c.logs.end(), [&](const TrustedLog& o) { return o.verifier.name == l->verifier.name; }))
        return bad(fmt::format("second log with origin '{}'", l->verifier.name));
      c.logs.push_back(std::move(*l));
    } else {
      return bad(fmt::format("unknown keyword '{}'", keyword));
    }
  }
  if (c.name.empty()) return fail(ErrorCode::failed_precondition, "{}: no name line", (dir / k_config_file).string());
  if (!have_key) return fail(ErrorCode::failed_precondition, "{}: no key line", (dir / k_config_file).string());
  if (c.logs.empty()) return fail(ErrorCode::failed_precondition, "{}: no log line", (dir / k_config_file).string());
  return c;
}

// fsync the folder `dir`, so a rename in it is durable.
Expected<void> sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::io, "cannot open '{}' to sync it", dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return fail(ErrorCode::io, "cannot sync '{}'", dir.string());
  return {};
}

Reply answer(int status, std::string detail) {
  Reply r;
  r.status = status;
  r.content_type = std::string(k_text);
  r.body = detail + "\n";
  r.detail = std::move(detail);
  return r;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// Parse a state file: a signed checkpoint note of `log`, verifying under its key.
Expected<LogState> parse_state(std::string_view note, const TrustedLog& log) {
  auto parsed = log::parse_note(note);
  if (!parsed) return std::unexpected(parsed.error());
  const log::Verifier known[] = {log.verifier};
  if (auto ok = log::verify_note(*parsed, known); !ok) return std::unexpected(ok.error());
  auto cp = log::parse_checkpoint_text(parsed->text);
  if (!cp) return std::unexpected(cp.error());
  if (cp->origin != log.verifier.name)
    return fail(ErrorCode::invalid_input, "checkpoint of origin '{}', not '{}'", cp->origin, log.verifier.name);
  return LogState{cp->size, cp->root, std::string(note)};
}

} // namespace

fs::path state_path(const fs::path& dir, std::string_view origin) {
  return dir / k_state_dir / (to_hex(crypto::sha256(origin)) + ".checkpoint");
}

Expected<InitResult> init(const InitOptions& options) {
  if (options.log_vkeys.empty()) return fail(ErrorCode::invalid_input, "a witness needs at least one --log VKEY");
  Config config;
  for (const auto& v : options.log_vkeys) {
    auto l = parse_log_vkey(v);
    if (!l) return std::unexpected(l.error());
    if (std::any_of(config.logs.begin(), config.logs.end(),
                    [&](const TrustedLog& o) { return o.verifier.name == l->verifier.name; }))
      return fail(ErrorCode::invalid_input, "two --log keys for origin '{}': a witness trusts one key per log",
                  l->verifier.name);
    config.logs.push_back(std::move(*l));
  }
  if (options.name && !log::is_valid_key_name(*options.name))
    return fail(ErrorCode::invalid_input, "invalid witness name '{}': want a key name without '+' or white space",
                *options.name);

  const fs::path& dir = options.dir;
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return fail(ErrorCode::already_exists, "cannot create witness '{}': not a folder", dir.string());
    if (!fs::is_empty(dir, ec))
      return fail(ErrorCode::already_exists, "cannot create witness '{}': the folder is not empty", dir.string());
  }
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::io, "cannot create '{}': {}", dir.string(), ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return fail(ErrorCode::io, "cannot set the mode of '{}': {}", dir.string(), ec.message());
  fs::create_directory(dir / k_state_dir, ec);
  if (ec) return fail(ErrorCode::io, "cannot create '{}': {}", (dir / k_state_dir).string(), ec.message());
  fs::permissions(dir / k_state_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  InitResult result;
  result.dir = fs::absolute(dir);
  std::optional<crypto::PrivateKey> key;
  if (options.key) {
    auto k = crypto::read_private_key(*options.key, [] { return Expected<std::optional<crypto::SecretBytes>>(std::nullopt); });
    if (!k) return std::unexpected(k.error());
    key.emplace(std::move(*k));
    config.key_file = fs::absolute(*options.key);
  } else {
    auto k = crypto::PrivateKey::generate();
    if (!k) return std::unexpected(k.error());
    if (auto ok = crypto::write_private_key(dir / k_key_file, *k, crypto::SecretBytes{}); !ok)
      return std::unexpected(ok.error());
    key.emplace(std::move(*k));
    config.key_file = k_key_file;
    result.generated_key = true;
  }
  const crypto::PublicKey pub = key->public_key();
  config.name = options.name ? *options.name : "avow-witness-" + crypto::key_id(pub).substr(0, 8);
  const std::string vkey = log::vkey(config.name, pub, log::k_sig_cosignature_v1);
  if (auto ok = write_file_atomic(dir / k_vkey_file, vkey + "\n", FileMode::public_0644, Overwrite::no); !ok)
    return std::unexpected(ok.error());
  if (auto ok = write_file_atomic(dir / k_pub_file, crypto::public_key_pem(pub), FileMode::public_0644, Overwrite::no); !ok)
    return std::unexpected(ok.error());
  if (auto ok = write_file_atomic(dir / k_config_file, format_config(config), FileMode::private_0600, Overwrite::no); !ok)
    return std::unexpected(ok.error());
  if (auto ok = sync_dir(dir); !ok) return std::unexpected(ok.error());
  result.name = config.name;
  result.vkey = vkey;
  result.key_file = config.key_file.is_relative() ? result.dir / config.key_file : config.key_file;
  for (const auto& l : config.logs) result.origins.push_back(l.verifier.name);
  return result;
}

Expected<Request> parse_request(std::string_view body) {
  if (body.size() > k_max_request_bytes)
    return fail(ErrorCode::invalid_input, "request body over {} bytes", k_max_request_bytes);
  Request r;
  auto line = [&body]() -> std::optional<std::string_view> {
    const std::size_t eol = body.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view l = body.substr(0, eol);
    body.remove_prefix(eol + 1);
    return l;
  };
  auto first = line();
  if (!first || !first->starts_with("old ") || !parse_decimal(first->substr(4), r.old_size))
    return fail(ErrorCode::invalid_input, "the body does not start with 'old <size>' and a newline");
  for (;;) {
    auto l = line();
    if (!l) return fail(ErrorCode::invalid_input, "no empty line between the proof and the checkpoint");
    if (l->empty()) break;
    if (r.proof.size() == k_max_proof_lines)
      return fail(ErrorCode::invalid_input, "more than {} consistency proof lines", k_max_proof_lines);
    auto hash = base64_decode(*l);
    if (!hash || hash->size() != 32)
      return fail(ErrorCode::invalid_input, "proof line {} is not the base64 of a 32-byte hash", r.proof.size() + 1);
    r.proof.push_back(std::move(*hash));
  }
  r.checkpoint = std::string(body);
  return r;
}

std::string format_request(const Request& request) {
  std::string out = fmt::format("old {}\n", request.old_size);
  for (const auto& h : request.proof) out += base64_encode(h) + "\n";
  out += "\n";
  out += request.checkpoint;
  return out;
}

struct Witness::Impl {
  fs::path dir;
  Config config;
  crypto::PrivateKey key;
  std::map<std::string, LogState, std::less<>> states; // by origin
  std::mutex mutex;
  std::function<void()> after_persist;

  int lock_fd = -1;                                    // DIR/lock, flock'ed while this witness is loaded

  Impl(fs::path d, Config c, crypto::PrivateKey k) : dir(std::move(d)), config(std::move(c)), key(std::move(k)) {}
  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  const TrustedLog* find_log(std::string_view origin) const {
    for (const auto& l : config.logs)
      if (l.verifier.name == origin) return &l;
    return nullptr;
  }
};

Witness::Witness(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Witness::Witness(Witness&&) noexcept = default;
Witness& Witness::operator=(Witness&&) noexcept = default;
Witness::~Witness() = default;

const std::string& Witness::name() const { return m_impl->config.name; }
std::string Witness::vkey() const {
  return log::vkey(m_impl->config.name, m_impl->key.public_key(), log::k_sig_cosignature_v1);
}
const fs::path& Witness::dir() const { return m_impl->dir; }
std::vector<std::string> Witness::origins() const {
  std::vector<std::string> out;
  for (const auto& l : m_impl->config.logs) out.push_back(l.verifier.name);
  return out;
}
std::optional<LogState> Witness::state(std::string_view origin) const {
  std::lock_guard lock(m_impl->mutex);
  const auto it = m_impl->states.find(origin);
  if (it == m_impl->states.end()) return std::nullopt;
  return it->second;
}
void Witness::set_after_persist(std::function<void()> hook) { m_impl->after_persist = std::move(hook); }

Expected<Witness> Witness::load(const fs::path& dir) {
  auto refuse = [&dir](std::string why) {
    return fail(ErrorCode::failed_precondition, "cannot use witness '{}': {}", dir.string(), why);
  };
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return refuse("not a folder (create one with avow witness init)");
  auto text = read_file(dir / k_config_file, k_max_config_bytes);
  if (!text) return refuse(text.error().message);
  auto config = parse_config(*text, dir);
  if (!config) return std::unexpected(config.error());
  auto key = crypto::read_private_key(config->key_file, [] { return Expected<std::optional<crypto::SecretBytes>>(std::nullopt); });
  if (!key) return std::unexpected(key.error());
  auto impl = std::make_unique<Impl>(dir, std::move(*config), std::move(*key));
  // One process per witness folder: a second one would answer from a state it read before the first one's writes.
  impl->lock_fd = ::open((dir / k_lock_file).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (impl->lock_fd < 0) return refuse(fmt::format("cannot open '{}'", (dir / k_lock_file).string()));
  if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0)
    return refuse("another process is using it (is a witness already serving this folder?)");

  // Every state file must be a checkpoint of a trusted log that verifies: anything else stops the witness, since
  // starting without it would let it cosign a view that contradicts what it cosigned before.
  const fs::path state_dir = dir / k_state_dir;
  if (!fs::is_directory(state_dir, ec)) return refuse(fmt::format("'{}' is missing", state_dir.string()));
  std::map<std::string, const TrustedLog*> by_file;
  for (const auto& l : impl->config.logs) by_file[state_path(dir, l.verifier.name).filename().string()] = &l;
  for (const auto& entry : fs::directory_iterator(state_dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.find(".tmp.") != std::string::npos) continue; // a write that a crash interrupted before its rename
    const auto it = by_file.find(file);
    if (it == by_file.end())
      return refuse(fmt::format("state file '{}' belongs to no log of {} (restore the config, or move the file away "
                                "if the log was dropped on purpose)", entry.path().string(), k_config_file));
    auto note = read_file(entry.path(), k_max_request_bytes);
    if (!note) return refuse(fmt::format("state file '{}': {}", entry.path().string(), note.error().message));
    auto st = parse_state(*note, *it->second);
    if (!st)
      return refuse(fmt::format("state file '{}' does not parse: {}; refusing to start rather than forget what this "
                                "witness cosigned (restore the file from a backup)",
                                entry.path().string(), st.error().message));
    impl->states.emplace(it->second->verifier.name, std::move(*st));
  }
  if (ec) return refuse(fmt::format("cannot list '{}': {}", state_dir.string(), ec.message()));
  return Witness(std::move(impl));
}

Reply Witness::add_checkpoint(std::string_view body, std::uint64_t now) {
  auto request = parse_request(body);
  if (!request) return answer(400, request.error().message);
  auto note = log::parse_note(request->checkpoint);
  if (!note) return answer(400, fmt::format("the checkpoint is not a signed note: {}", note.error().message));
  auto cp = log::parse_checkpoint_text(note->text);
  if (!cp) return answer(400, fmt::format("the note is not a checkpoint: {}", cp.error().message));
  const auto with = [&](Reply r) {
    r.origin = cp->origin;
    r.size = cp->size;
    return r;
  };
  const TrustedLog* trusted = m_impl->find_log(cp->origin);
  if (!trusted) return with(answer(404, fmt::format("unknown log '{}'", cp->origin)));
  const log::Verifier known[] = {trusted->verifier};
  if (auto ok = log::verify_note(*note, known); !ok)
    return with(answer(403, fmt::format("no valid signature by the log key of '{}': {}", cp->origin, ok.error().message)));
  if (request->old_size > cp->size)
    return with(answer(400, fmt::format("old size {} is larger than the checkpoint size {}", request->old_size, cp->size)));

  std::lock_guard lock(m_impl->mutex);
  const auto it = m_impl->states.find(cp->origin);
  const std::uint64_t known_size = it == m_impl->states.end() ? 0 : it->second.size;
  const auto conflict = [&](std::string why) {
    Reply r = with(answer(409, std::move(why)));
    r.content_type = std::string(k_size_content_type);
    r.body = fmt::format("{}\n", known_size);
    return r;
  };
  if (request->old_size != known_size)
    return conflict(fmt::format("old size {} is not the size this witness cosigned last ({})", request->old_size, known_size));
  if (request->old_size == 0) {
    if (!request->proof.empty()) return with(answer(422, "a proof from old size 0 must be empty"));
  } else if (request->old_size == cp->size) {
    if (!request->proof.empty()) return with(answer(422, "a proof between equal sizes must be empty"));
    if (it->second.root != cp->root)
      return conflict(fmt::format("checkpoint of size {} has another root than the one this witness cosigned", cp->size));
  } else if (auto ok = log::verify_consistency(request->old_size, cp->size, request->proof, it->second.root, cp->root); !ok) {
    return with(answer(422, fmt::format("the consistency proof from {} to {} does not verify: {}", request->old_size,
                                        cp->size, ok.error().message)));
  }

  auto cosig = log::cosign(note->text, m_impl->config.name, m_impl->key, now);
  if (!cosig) return with(answer(500, "cannot cosign: " + cosig.error().message));
  auto line = log::format_note(log::Note{note->text, {*cosig}});
  if (!line) return with(answer(500, "cannot cosign: " + line.error().message));

  // Persist before replying: a crash after this point leaves the new state, never the old one with a cosignature out.
  const fs::path path = state_path(m_impl->dir, cp->origin);
  if (auto ok = write_file_atomic(path, request->checkpoint, FileMode::private_0600, Overwrite::yes); !ok)
    return with(answer(500, "cannot persist the state: " + ok.error().message));
  if (auto ok = sync_dir(path.parent_path()); !ok) return with(answer(500, "cannot persist the state: " + ok.error().message));
  m_impl->states[cp->origin] = LogState{cp->size, cp->root, request->checkpoint};
  if (m_impl->after_persist) m_impl->after_persist();

  Reply r = with(answer(200, "cosigned"));
  r.body = line->substr(note->text.size() + 1); // the signature line alone
  return r;
}

} // namespace avow::witness
