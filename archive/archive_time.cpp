// RFC 3161 trusted time over checkpoints: the façade's timestamp operations and the writer's clock check.

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/crypto/timestamp.hpp>
#include <archive/record/layout.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/verify/log_reader.hpp>
#include <archive/verify/timestamps.hpp>

#include <algorithm>

namespace avow {
namespace fs = std::filesystem;

namespace detail {

Expected<void> check_clock(const store::GitStore& store, const store::Oid& head) {
  auto info = store.commit_info(head);
  if (!info) return std::unexpected(info.error());
  SysSeconds newest{std::chrono::seconds{info->commit_time}};
  std::string what = "the last commit's time";
  auto files = store.list(head, record::k_timestamps_prefix.substr(0, record::k_timestamps_prefix.size() - 1));
  if (!files) return std::unexpected(files.error());
  for (const auto& [path, bytes] : *files) {
    if (!verify::timestamp_path_size(path) || bytes > crypto::k_max_timestamp_bytes) continue;
    auto der = store.read(head, path);
    if (!der) return std::unexpected(der.error());
    auto token = crypto::parse_timestamp_response(*der);
    if (token && token->gen_time > newest) {
      newest = token->gen_time;
      what = fmt::format("the time of token {}", path);
    }
  }
  const SysSeconds now = now_seconds();
  if (now + verify::k_timestamp_tolerance < newest)
    return fail(ErrorCode::failed_precondition,
                "the local clock ({}) is more than {} minutes before the archive's newest time ({}, {}); fix the "
                "clock before writing",
                format_rfc3339_utc(now), verify::k_timestamp_tolerance.count(), format_rfc3339_utc(newest), what);
  return {};
}

} // namespace detail

namespace {

// The log key in force (key state at `head`), from avow.logkey: a key file or an agent key.
Expected<crypto::OwnedSigner> load_log_key(const Archive::Impl& impl, const store::Oid& head,
                                           const verify::SignedCheckpoint& cp,
                                           const crypto::PassphraseSource& passphrase) {
  auto key = detail::open_log_key(impl.store, passphrase, "add time-stamp tokens");
  if (!key) return std::unexpected(key.error());
  auto keys = verify::key_state_at(impl.store, head, cp, impl.log_verifier);
  if (!keys) return std::unexpected(keys.error());
  if (auto ok = detail::check_log_key(*keys, key->key.public_key(), key->spec); !ok) return std::unexpected(ok.error());
  return std::move(key->key);
}

} // namespace

Expected<Archive::TimestampRequest> Archive::timestamp_request() const {
  const auto& store = m_impl->store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto cp = verify::read_checkpoint(store, **head, m_impl->log_verifier, m_impl->config.origin);
  if (!cp) return fail(ErrorCode::failed_precondition, "cannot time-stamp: {}", cp.error().message);
  auto digest = verify::checkpoint_body_digest(cp->note);
  if (!digest) return std::unexpected(digest.error());
  auto der = crypto::timestamp_request(*digest);
  if (!der) return std::unexpected(der.error());
  return TimestampRequest{std::move(*der), cp->checkpoint.size, to_hex(*digest)};
}

Expected<Archive::Timestamp> Archive::timestamp_attach(std::string_view tsr, const TimestampOptions& options) {
  auto& store = m_impl->store;
  const auto& config = m_impl->config;
  auto info = crypto::parse_timestamp_response(tsr);
  if (!info) return std::unexpected(info.error());
  // A token from the future: the local clock or the TSA's is wrong. Stored, it would also make every later write
  // refuse the local clock (check_clock).
  if (const SysSeconds now = now_seconds(); info->gen_time > now + verify::k_timestamp_tolerance)
    return fail(ErrorCode::failed_precondition,
                "the token's time ({}) is more than {} minutes after the local clock ({}); fix the clock (or use "
                "another TSA) before attaching it",
                info->gen_time_text, verify::k_timestamp_tolerance.count(), format_rfc3339_utc(now));

  auto lock = store::WriterLock::acquire(store.git_dir(), options.lock_timeout);
  if (!lock) return std::unexpected(lock.error());
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto cp = verify::read_checkpoint(store, **head, m_impl->log_verifier, config.origin);
  if (!cp) return fail(ErrorCode::failed_precondition, "cannot attach a time-stamp: {}", cp.error().message);
  if (auto ok = detail::check_clock(store, **head); !ok) return std::unexpected(ok.error());

  // Which checkpoint does it cover? The current one, or one of the history.
  auto current = verify::checkpoint_body_digest(cp->note);
  if (!current) return std::unexpected(current.error());
  std::optional<std::uint64_t> size;
  if (crypto::equal_constant_time(*current, info->imprint)) {
    size = cp->checkpoint.size;
  } else {
    auto bodies = verify::checkpoint_bodies(store);
    if (!bodies) return std::unexpected(bodies.error());
    for (const auto& b : *bodies)
      if (crypto::equal_constant_time(b.digest, info->imprint)) size = b.size;
  }
  if (!size)
    return fail(ErrorCode::invalid_input,
                "the time-stamp token is for another checkpoint: its imprint {} is the SHA-256 of no checkpoint body in "
                "this archive's history (the current checkpoint, size {}, has body SHA-256 {})",
                to_hex(info->imprint), cp->checkpoint.size, to_hex(*current));
  const std::string path = verify::timestamp_path(*size);
  auto exists = store.exists(**head, path);
  if (!exists) return std::unexpected(exists.error());
  if (*exists)
    return fail(ErrorCode::failed_precondition, "checkpoint {} already has a time-stamp token ({})", *size, path);
  bool verified = false;
  if (options.tsa_cert_pem) {
    if (auto ok = crypto::verify_timestamp_response(tsr, info->imprint, *options.tsa_cert_pem); !ok)
      return std::unexpected(ok.error());
    verified = true;
  }
  auto log_key = load_log_key(*m_impl, **head, *cp, options.passphrase);
  if (!log_key) return std::unexpected(log_key.error());

  auto tx = store.begin();
  if (!tx) return std::unexpected(tx.error());
  if (tx->base() != *head) return fail(ErrorCode::failed_precondition, "archive changed during the write (another writer?)");
  if (auto ok = tx->put(path, tsr); !ok) return std::unexpected(ok.error());
  const std::string message = fmt::format("avow: time-stamp checkpoint {}\n\nAvow-Timestamp: {} {}\nAvow-Tree-Size: {}\n",
                                          *size, path, info->gen_time_text, cp->checkpoint.size);
  const crypto::Signer& key = *log_key;
  auto commit = tx->commit(message, [&key](std::string_view buffer) {
    return crypto::sshsig_sign(key, "git", as_bytes(buffer));
  });
  if (!commit) return std::unexpected(commit.error());
  return Timestamp{*size, path, std::move(*info), verified, commit->hex()};
}

Expected<std::vector<Archive::Timestamp>> Archive::timestamps(const std::optional<std::string>& tsa_cert_pem) const {
  const auto& store = m_impl->store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return std::vector<Timestamp>{};
  auto files = store.list(**head, record::k_timestamps_prefix.substr(0, record::k_timestamps_prefix.size() - 1));
  if (!files) return std::unexpected(files.error());
  if (files->empty()) return std::vector<Timestamp>{};
  auto bodies = verify::checkpoint_bodies(store);
  if (!bodies) return std::unexpected(bodies.error());
  auto tokens = verify::read_tokens(store, **head, *bodies, tsa_cert_pem);
  if (!tokens) return std::unexpected(tokens.error());
  std::vector<Timestamp> out;
  for (auto& t : *tokens)
    if (t.matches && (!tsa_cert_pem || t.verified)) out.push_back({t.size, t.path, std::move(t.info), t.verified, {}});
  return out;
}

} // namespace avow
