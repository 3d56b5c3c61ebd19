// Witnesses: `avow witness init/serve` (forwarded to archive/witness), and the log side of C2SP tlog-witness:
// `avow cosign` asks witnesses to cosign the current checkpoint and stores their cosignatures in log/checkpoint.
// The only façade file that talks HTTP to witnesses or serves it (with archive_capture.cpp and
// archive_time_fetch.cpp, the net side that only the avow-net helper links; docs/ARCHITECTURE.md).

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>

#include <archive/crypto/sshsig.hpp>
#include <archive/log/policy.hpp>
#include <archive/log/proof.hpp>
#include <archive/net/http.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/verify/log_reader.hpp>
#include <archive/witness/server.hpp>

#include <algorithm>
#include <charconv>
#include <future>
#include <mutex>
#include <set>
#include <unistd.h>

namespace avow {
namespace fs = std::filesystem;

Expected<witness::InitResult> witness_init(const witness::InitOptions& options) { return witness::init(options); }

Expected<void> witness_serve(const WitnessServeOptions& options) {
  auto w = witness::Witness::load(options.dir);
  if (!w) return std::unexpected(w.error());
  if (options.crash_after_persist) w->set_after_persist([] { ::_exit(137); });
  witness::ServeOptions serve;
  serve.listen = options.listen;
  serve.on_listening = options.on_listening;
  serve.log = options.log;
  return witness::serve(*w, serve);
}

namespace {

std::vector<log::Verifier> witness_verifiers(const record::KeyState& keys, bool in_force_only) {
  std::vector<log::Verifier> out;
  for (const auto& k : keys.keys)
    if (k.role == record::k_role_witness && k.name && (!in_force_only || !k.revoked()))
      out.push_back(detail::witness_verifier(k));
  return out;
}

std::string trim_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string one_line(std::string_view s) {
  std::string out(s.substr(0, 300));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// A 409 body: the witness's size in decimal and a newline.
std::optional<std::uint64_t> parse_size_body(std::string_view body) {
  if (!body.ends_with('\n')) return std::nullopt;
  body.remove_suffix(1);
  std::uint64_t v = 0;
  if (body.empty() || (body.size() > 1 && body[0] == '0')) return std::nullopt;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc{} || p != body.data() + body.size()) return std::nullopt;
  return v;
}

struct Asked {
  Archive::CosignOutcome outcome;
  std::vector<log::NoteSignature> cosignatures; // verified
};

// Ask the witness at `url` to cosign `cp` (tlog-witness add-checkpoint), retrying once from the size a 409 names.
Asked ask_witness(const std::string& url, const verify::SignedCheckpoint& cp, const log::Note& note,
                  std::span<const log::Verifier> witnesses, const log::TileReader& tiles, std::chrono::seconds timeout) {
  Asked out;
  out.outcome.url = url;
  const std::uint64_t size = cp.checkpoint.size;
  const std::string endpoint = trim_url(url) + "/add-checkpoint";
  net::PostOptions post;
  post.timeout = timeout;
  post.connect_timeout = std::min(timeout, std::chrono::seconds{10});
  post.max_reply_bytes = 64 * 1024;
  auto failed = [&](std::string why) {
    out.outcome.detail = std::move(why);
    return out;
  };
  witness::Request request;
  request.old_size = 0;
  request.checkpoint = cp.note;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto reply = net::post(endpoint, "text/plain; charset=utf-8", witness::format_request(request), post);
    if (!reply) {
      out.outcome.unreachable = true;
      return failed(reply.error().message);
    }
    if (reply->status == 200) {
      // The reply is signature lines: append them to the checkpoint text and parse the whole as a note.
      auto parsed = log::parse_note(note.text + "\n" + reply->body);
      if (!parsed) return failed(fmt::format("HTTP 200 but the reply is not cosignature lines: {}", parsed.error().message));
      std::vector<std::string> unknown;
      for (const auto& s : parsed->signatures) {
        const auto v = std::find_if(witnesses.begin(), witnesses.end(),
                                    [&](const log::Verifier& w) { return w.name == s.name && w.id == s.id; });
        if (v == witnesses.end()) {
          unknown.push_back(s.name);
          continue;
        }
        out.outcome.witness = s.name;
        if (auto ok = log::verify_cosignature(note.text, s, *v); !ok)
          return failed(fmt::format("the cosignature by '{}' does not verify: {}", s.name, ok.error().message));
        out.cosignatures.push_back(s);
      }
      if (out.cosignatures.empty())
        return failed(fmt::format("no cosignature by a witness key of this archive (the reply was signed by '{}'; add "
                                  "its vkey with avow key add)",
                                  unknown.empty() ? std::string("nobody") : unknown.front()));
      out.outcome.cosigned = true;
      return out;
    }
    if (reply->status == 409 && attempt == 0) {
      const auto theirs = parse_size_body(reply->body);
      if (!theirs) return failed(fmt::format("HTTP 409 with a body that is not a size: '{}'", one_line(reply->body)));
      if (*theirs > size) {
        out.outcome.conflict = true;
        return failed(fmt::format("the witness cosigned a checkpoint of size {}, larger than this log's {}: it has seen "
                                  "a view of this log that this archive does not contain",
                                  *theirs, size));
      }
      request.old_size = *theirs;
      request.proof.clear();
      if (*theirs > 0 && *theirs < size) {
        auto proof = log::consistency_proof_from_tiles(*theirs, size, size, tiles);
        if (!proof) return failed(fmt::format("cannot compute a consistency proof from {}: {}", *theirs, proof.error().message));
        for (const auto& h : *proof) request.proof.emplace_back(h.begin(), h.end());
      }
      continue;
    }
    const std::string answer = fmt::format("HTTP {}: {}", reply->status, one_line(reply->body));
    if (reply->status == 409 || reply->status == 422) {
      out.outcome.conflict = true;
      return failed(fmt::format("the witness holds a checkpoint of size {} that this log does not extend ({})",
                                request.old_size, answer));
    }
    return failed(answer);
  }
  return failed("no answer");
}

// The checkpoint note `note` with `added` merged in: the signatures that are not cosignatures by a known witness first
// (the log's, in their order), then one cosignature per witness (the newest timestamp), in witness-name order.
Expected<std::string> merge_cosignatures(const log::Note& note, std::span<const log::Verifier> witnesses,
                                         const std::vector<log::NoteSignature>& added) {
  const auto is_witness = [&](const log::NoteSignature& s) {
    return std::any_of(witnesses.begin(), witnesses.end(),
                       [&](const log::Verifier& w) { return w.name == s.name && w.id == s.id; });
  };
  const auto timestamp = [](const log::NoteSignature& s) {
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < 8 && i < s.signature.size(); ++i) t = (t << 8) | s.signature[i];
    return t;
  };
  log::Note out{note.text, {}};
  std::map<std::string, log::NoteSignature> by_witness;
  for (const auto& s : note.signatures) {
    if (!is_witness(s)) out.signatures.push_back(s);
    else by_witness[s.name] = s;
  }
  for (const auto& s : added) {
    const auto it = by_witness.find(s.name);
    if (it == by_witness.end() || timestamp(s) > timestamp(it->second)) by_witness[s.name] = s;
  }
  for (auto& [name, s] : by_witness) out.signatures.push_back(std::move(s));
  return log::format_note(out);
}

} // namespace

Expected<Archive::CosignResult> Archive::cosign(const CosignOptions& options) {
  auto& store = m_impl->store;
  if (options.urls.empty()) return fail(ErrorCode::invalid_input, "cosign needs at least one --witness URL");
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto cp = verify::read_checkpoint(store, **head, m_impl->log_verifier, m_impl->config.origin);
  if (!cp) return fail(ErrorCode::failed_precondition, "cannot cosign: {}", cp.error().message);
  auto keys = verify::key_state_at(store, **head, *cp, m_impl->log_verifier);
  if (!keys) return std::unexpected(keys.error());
  auto note = log::parse_note(cp->note);
  if (!note) return std::unexpected(note.error());
  // Only the log's own signatures go to a witness: it needs no one else's.
  const std::vector<log::Verifier> in_force = witness_verifiers(*keys, true);
  const std::vector<log::Verifier> all_witnesses = witness_verifiers(*keys, false);
  verify::SignedCheckpoint sent = *cp;
  {
    log::Note log_only{note->text, {}};
    for (const auto& s : note->signatures)
      if (std::none_of(all_witnesses.begin(), all_witnesses.end(),
                       [&](const log::Verifier& w) { return w.name == s.name && w.id == s.id; }))
        log_only.signatures.push_back(s);
    auto text = log::format_note(log_only);
    if (!text) return std::unexpected(text.error());
    sent.note = std::move(*text);
  }
  // The witnesses are asked in parallel; the git store is read by one thread at a time.
  const log::TileReader unguarded = detail::tile_reader(store, **head);
  std::mutex tiles_mutex;
  const log::TileReader tiles = [&](const std::string& path) {
    std::lock_guard lock(tiles_mutex);
    return unguarded(path);
  };

  std::vector<std::future<Asked>> pending;
  for (const auto& url : options.urls)
    pending.push_back(std::async(std::launch::async, [&, url] {
      return ask_witness(url, sent, *note, in_force, tiles, options.timeout);
    }));
  CosignResult result;
  result.tree_size = cp->checkpoint.size;
  std::vector<log::NoteSignature> added;
  std::set<std::string> names;
  for (auto& p : pending) {
    Asked a = p.get();
    for (const auto& s : a.cosignatures)
      if (names.insert(s.name).second) added.push_back(s);
    result.witnesses.push_back(std::move(a.outcome));
  }
  if (added.empty()) return result;

  auto lock = store::WriterLock::acquire(store.git_dir(), options.lock_timeout);
  if (!lock) return std::unexpected(lock.error());
  auto now_head = store.head();
  if (!now_head) return std::unexpected(now_head.error());
  if (!*now_head || **now_head != **head)
    return fail(ErrorCode::failed_precondition,
                "the archive changed while the witnesses were asked (another writer?); run avow cosign again");
  if (auto ok = detail::check_clock(store, **head); !ok) return std::unexpected(ok.error());
  auto log_key = detail::open_log_key(store, options.passphrase, "add cosignatures");
  if (!log_key) return std::unexpected(log_key.error());
  if (auto ok = detail::check_log_key(*keys, log_key->key.public_key(), log_key->spec); !ok)
    return std::unexpected(ok.error());
  auto merged = merge_cosignatures(*note, all_witnesses, added);
  if (!merged) return std::unexpected(merged.error());

  auto tx = store.begin();
  if (!tx) return std::unexpected(tx.error());
  if (tx->base() != **head) return fail(ErrorCode::failed_precondition, "archive changed during the write (another writer?)");
  if (auto ok = tx->put(std::string(record::k_checkpoint_path), *merged); !ok) return std::unexpected(ok.error());
  for (const auto& s : added) result.cosigned_by.push_back(s.name);
  std::sort(result.cosigned_by.begin(), result.cosigned_by.end());
  std::string message = fmt::format("avow: cosign checkpoint {}\n\nAvow-Tree-Size: {}\n", result.tree_size, result.tree_size);
  for (const auto& n : result.cosigned_by) message += fmt::format("Avow-Cosigned-By: {}\n", n);
  const crypto::Signer& key = log_key->key;
  auto commit = tx->commit(message, [&key](std::string_view buffer) {
    return crypto::sshsig_sign(key, "git", as_bytes(buffer));
  });
  if (!commit) return std::unexpected(commit.error());
  result.commit = commit->hex();
  return result;
}

} // namespace avow
