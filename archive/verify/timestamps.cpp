#include <archive/verify/timestamps.hpp>

#include <archive/log/note.hpp>
#include <archive/record/layout.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace avow::verify {

std::string timestamp_path(std::uint64_t size) { return fmt::format("{}{}.tsr", record::k_timestamps_prefix, size); }

std::optional<std::uint64_t> timestamp_path_size(std::string_view path) {
  if (!path.starts_with(record::k_timestamps_prefix) || !path.ends_with(".tsr")) return std::nullopt;
  const std::string_view digits = path.substr(record::k_timestamps_prefix.size(),
                                              path.size() - record::k_timestamps_prefix.size() - 4);
  if (digits.empty() || digits.size() > 20 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || p != digits.data() + digits.size()) return std::nullopt;
  return v;
}

Expected<crypto::Digest> checkpoint_body_digest(std::string_view note) {
  auto parsed = log::parse_note(note);
  if (!parsed) return std::unexpected(parsed.error());
  return crypto::sha256(parsed->text);
}

Expected<std::vector<CheckpointBody>> checkpoint_bodies(const store::GitStore& store) {
  std::vector<CheckpointBody> out;
  std::map<std::uint64_t, std::vector<crypto::Digest>> seen;
  auto walked = store.for_each_commit([&](const store::CommitInfo& c) -> Expected<void> {
    auto note = store.read_if_exists(c.id, record::k_checkpoint_path);
    if (!note) return std::unexpected(note.error());
    if (!*note) return {};
    auto parsed = log::parse_note(**note);
    if (!parsed) return {};
    // The size is the second line of the body: "<origin>\n<size>\n<root>\n..."
    const auto first = parsed->text.find('\n');
    const auto second = first == std::string::npos ? std::string::npos : parsed->text.find('\n', first + 1);
    if (second == std::string::npos) return {};
    std::uint64_t size = 0;
    const char* b = parsed->text.data() + first + 1;
    const char* e = parsed->text.data() + second;
    if (auto [p, ec] = std::from_chars(b, e, size); ec != std::errc{} || p != e) return {};
    const auto digest = crypto::sha256(parsed->text);
    auto& list = seen[size];
    if (std::find(list.begin(), list.end(), digest) != list.end()) return {};
    list.push_back(digest);
    out.push_back({size, digest, c.id.hex()});
    return {};
  });
  if (!walked) return std::unexpected(walked.error());
  return out;
}

Expected<std::vector<StoredToken>> read_tokens(const store::GitStore& store, const store::Oid& commit,
                                               const std::vector<CheckpointBody>& bodies,
                                               const std::optional<std::string>& tsa_cert_pem) {
  auto files = store.list(commit, record::k_timestamps_prefix.substr(0, record::k_timestamps_prefix.size() - 1));
  if (!files) return std::unexpected(files.error());
  std::vector<StoredToken> out;
  for (const auto& [path, bytes] : *files) {
    auto size = timestamp_path_size(path);
    if (!size) continue;
    StoredToken t;
    t.size = *size;
    t.path = path;
    if (bytes > crypto::k_max_timestamp_bytes) {
      t.problem = fmt::format("{} bytes, over the limit of {}", bytes, crypto::k_max_timestamp_bytes);
      out.push_back(std::move(t));
      continue;
    }
    auto der = store.read(commit, path);
    if (!der) return std::unexpected(der.error());
    auto info = crypto::parse_timestamp_response(*der);
    if (!info) {
      t.problem = info.error().message;
      out.push_back(std::move(t));
      continue;
    }
    t.info = std::move(*info);
    t.matches = std::any_of(bodies.begin(), bodies.end(), [&](const CheckpointBody& b) {
      return b.size == t.size && crypto::equal_constant_time(b.digest, t.info.imprint);
    });
    if (!t.matches) {
      t.problem = fmt::format("its imprint {} is the SHA-256 of no checkpoint body of size {} in the history",
                              to_hex(t.info.imprint), t.size);
    } else if (tsa_cert_pem) {
      auto ok = crypto::verify_timestamp_response(*der, t.info.imprint, *tsa_cert_pem);
      if (ok) t.verified = true;
      else t.problem = ok.error().message;
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const StoredToken& a, const StoredToken& b) { return a.size < b.size; });
  return out;
}

const StoredToken* earliest_covering(const std::vector<StoredToken>& tokens, std::uint64_t index, bool verified_only) {
  const StoredToken* best = nullptr;
  for (const auto& t : tokens) {
    if (t.size <= index || !t.matches || (verified_only && !t.verified)) continue;
    if (!best || t.info.gen_time < best->info.gen_time) best = &t;
  }
  return best;
}

void check_timestamps(const store::GitStore& store, const store::Oid& head, const TimestampInput& input,
                      const Options& options, Report& report, std::set<std::string>& expected_files) {
  const auto problem = [&](std::string kind, std::optional<std::uint64_t> entry, std::optional<std::string> path,
                           std::string message) {
    report.problems.push_back({std::move(kind), entry, std::nullopt, std::move(path), std::move(message), {}});
  };
  auto listed = store.list(head, record::k_timestamps_prefix.substr(0, record::k_timestamps_prefix.size() - 1));
  if (!listed) {
    problem("io", std::nullopt, std::nullopt, listed.error().message);
    return;
  }
  if (listed->empty()) return;
  auto bodies = checkpoint_bodies(store);
  if (!bodies) {
    problem("io", std::nullopt, std::nullopt, bodies.error().message);
    return;
  }
  auto tokens = read_tokens(store, head, *bodies, options.tsa_cert_pem);
  if (!tokens) {
    problem("io", std::nullopt, std::nullopt, tokens.error().message);
    return;
  }
  const bool with_cert = options.tsa_cert_pem.has_value();
  for (const auto& t : *tokens) {
    expected_files.insert(t.path);
    ++report.timestamps;
    if (t.info.gen_time_text.empty()) {
      problem("timestamp_invalid", std::nullopt, t.path, fmt::format("'{}' is not a valid time-stamp token: {}", t.path, t.problem));
      continue;
    }
    if (!t.matches) {
      problem("timestamp_mismatch", std::nullopt, t.path, fmt::format("'{}' does not cover checkpoint {}: {}", t.path, t.size, t.problem));
      continue;
    }
    if (with_cert && !t.verified) {
      problem("timestamp_invalid", std::nullopt, t.path,
              fmt::format("'{}' does not verify under the TSA certificate: {}", t.path, t.problem));
      continue;
    }
    if (report.newest_timestamp.empty() || t.info.gen_time_text > report.newest_timestamp)
      report.newest_timestamp = t.info.gen_time_text;
  }
  report.timestamps_checked = with_cert;
  if (!with_cert && !tokens->empty())
    report.notices.push_back({"timestamps_unchecked", std::nullopt, std::nullopt, std::string(record::k_timestamps_prefix),
                              fmt::format("{} time-stamp token{} matched against the checkpoints but not checked "
                                          "against a TSA certificate (give --tsa-cert FILE)",
                                          tokens->size(), tokens->size() == 1 ? "" : "s"),
                              {}});
  // A record captured after a token that covers it: the archive's own clock contradicts the TSA's.
  for (std::uint64_t i = 0; i < input.captured.size(); ++i) {
    if (input.captured[i] == TimestampInput::k_no_capture) continue;
    const StoredToken* t = earliest_covering(*tokens, i, with_cert);
    if (!t) continue;
    const SysSeconds captured{std::chrono::seconds(input.captured[i])};
    if (captured > t->info.gen_time + k_timestamp_tolerance)
      problem("captured_after_timestamp", i, t->path,
              fmt::format("entry {} says it was captured at {}, but token '{}' shows its checkpoint existed by {} "
                          "(more than {} minutes earlier)",
                          i, input.captured_text(i), t->path, t->info.gen_time_text, k_timestamp_tolerance.count()));
  }
}

} // namespace avow::verify
