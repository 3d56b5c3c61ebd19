// Web captures: `avow capture URL`, `capture --batch` and `watch` (docs/FORMAT.md §21). A page is fetched with every
// redirect hop kept (net::fetch), the exchanges are written as one WARC/1.1 file (warc::write_capture) and read back
// with every digest checked (warc::read_capture: what is stored is what verify will read), the final response's
// payload is decoded as HTML5 says and its main text and metadata extracted (html::decode, html::extract), and the
// text is appended as a statement whose original is the WARC (StatementInput::captured_original). Everything after
// the fetches — revisions, supersedes, recapture, dry run, locks, the index — is Archive::append's.

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/html/html.hpp>
#include <archive/net/fetch.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/text/canonical.hpp>
#include <archive/text/metadata.hpp>
#include <archive/version.hpp>
#include <archive/warc/warc.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <thread>

namespace avow {
namespace {

constexpr const char* k_warc_type = "application/warc";
constexpr const char* k_meta_prefix = "capture.";

std::string user_agent() { return fmt::format("avow/{} (+https://avow.invalid/capture)", version()); }

net::FetchOptions fetch_options(const FetchSettings& s) {
  net::FetchOptions o;
  o.connect_timeout = s.connect_timeout;
  o.timeout = s.timeout;
  o.max_bytes = s.max_bytes;
  o.cacert = s.cacert;
  o.headers = s.headers;
  o.user_agent = user_agent();
  return o;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "text/html; charset=UTF-8" -> "text/html".
std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

bool is_http_url(std::string_view uri) {
  const std::string l = lower(uri.substr(0, 8));
  return l.starts_with("http://") || l.starts_with("https://");
}

// Is the final response an HTML page? By its Content-Type; without one, by a look at its first bytes (as a browser
// sniffing an untyped resource would: a doctype or an <html> tag).
bool is_html(std::string_view media, std::string_view body) {
  if (!media.empty()) return media == "text/html" || media == "application/xhtml+xml";
  std::size_t i = 0;
  if (body.starts_with("\xEF\xBB\xBF")) i = 3;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  const std::string head = lower(body.substr(i, 14));
  return head.starts_with("<!doctype html") || head.starts_with("<html");
}

// The reason phrase of a response's status line ("HTTP/1.1 404 Not Found" -> "404 Not Found").
std::string status_text(const warc::HttpMessage& response) {
  const auto sp = response.start_line.find(' ');
  return sp == std::string::npos ? std::to_string(response.status) : response.start_line.substr(sp + 1);
}

// One URL fetched, its exchanges written as a WARC file and read back.
struct Kept {
  net::FetchResult fetched;
  std::string warc;
  warc::CaptureView view; // the final response, digests checked
  std::string body;       // its payload with the content coding removed
};

Expected<Kept> fetch_and_keep(const std::string& url, const FetchSettings& settings) {
  auto fetched = net::fetch(url, fetch_options(settings));
  if (!fetched) return std::unexpected(fetched.error());
  warc::Capture c;
  c.software = "avow/" + version();
  c.date = fetched->hops.front().date;
  c.info = {{"http-header-user-agent", user_agent()}};
  for (const auto& hop : fetched->hops) c.exchanges.push_back({hop.url, hop.ip, hop.date, hop.request, hop.response});
  auto file = warc::write_capture(c);
  if (!file) return fail(ErrorCode::invalid_input, "GET {}: {}", url, file.error().message);
  // What is stored must be what verify reads: read it back with every digest checked.
  auto view = warc::read_capture(*file);
  if (!view) return fail(ErrorCode::internal, "GET {}: the WARC file written does not read back: {}", url, view.error().message);
  const std::string encoding = view->response.header("Content-Encoding").value_or("");
  auto body = warc::decode_content(view->response.payload, trim(encoding), settings.max_bytes);
  if (!body) return fail(ErrorCode::invalid_input, "GET {}: {}", fetched->final_hop().url, body.error().message);
  return Kept{std::move(*fetched), std::move(*file), std::move(*view), std::move(*body)};
}

// What the page and the WARC say, before any extraction.
void describe(const Kept& kept, const std::string& requested, CapturedPage& page) {
  page.requested_uri = requested;
  page.final_uri = kept.fetched.final_hop().url;
  page.status = kept.view.response.status;
  page.hops = kept.fetched.hops.size();
  page.content_type = kept.view.response.header("Content-Type").value_or("");
  page.payload_sha256 = kept.view.payload_sha256;
  page.warc_sha256 = to_hex(crypto::sha256(kept.warc));
  page.warc_bytes = kept.warc.size();
}

// The statement for a page that was fetched: its text (extracted, or the request's own), metadata (flags first), the
// capture.* meta, and the WARC as its original. `page` gets what was used.
// `previous` (watch): the version being checked again, whose title, publisher and lang are kept when the page gives
// none (they may have come from flags), with from = "previous version".
Expected<StatementInput> make_statement(const CaptureRequest& req, const Kept& kept, CapturedPage& page,
                                        const index::Row* previous = nullptr) {
  const auto& response = kept.view.response;
  if ((page.status < 200 || page.status > 299) && !req.allow_status)
    return fail(ErrorCode::io, "GET {}: the server answered {} (give --allow-status to archive the response anyway)",
                page.final_uri, status_text(response));
  const std::string media = media_type(page.content_type);
  const bool html = is_html(media, kept.body);
  std::optional<html::Page> extracted;
  std::string text;
  if (req.text) {
    text = *req.text;
    page.extractor = "text-from";
    page.encoding = "binary";
    if (html) {
      // The page is HTML all the same: its charset and metadata are still worth having.
      if (auto decoded = html::decode(kept.body, html::charset_of(page.content_type))) {
        page.encoding = decoded->encoding;
        page.charset_from = decoded->how;
        if (auto p = html::extract(decoded->utf8, {req.selector})) extracted = std::move(*p);
      }
    }
  } else {
    if (!html)
      return fail(ErrorCode::invalid_input, "{}: the response is {}, not HTML; give its text with --text-from FILE to "
                                            "archive it against this capture",
                  page.final_uri, media.empty() ? std::string("untyped") : media);
    auto decoded = html::decode(kept.body, html::charset_of(page.content_type));
    if (!decoded) return fail(decoded.error().code, "{}: {}", page.final_uri, decoded.error().message);
    page.encoding = decoded->encoding;
    page.charset_from = decoded->how;
    auto p = html::extract(decoded->utf8, {req.selector});
    if (!p) return fail(p.error().code, "{}: {}", page.final_uri, p.error().message);
    text = p->text;
    page.extractor = p->extractor;
    extracted = std::move(*p);
  }
  page.text = text;

  StatementInput in;
  in.label = req.url;
  in.bytes = std::move(text);
  in.source = page.final_uri;
  const auto pick = [&](const char* name, const std::optional<std::string>& flag,
                        const std::optional<html::Found> html::Metadata::*field) -> std::optional<std::string> {
    if (flag) {
      page.metadata[name] = {*flag, "flag"};
      return flag;
    }
    if (extracted && extracted->metadata.*field) {
      const auto& found = *(extracted->metadata.*field);
      std::string value = found.value;
      if (std::string_view(name) == "lang") std::replace(value.begin(), value.end(), '_', '-'); // "en_US"
      // What a page says is kept only when a record can hold it; else a warning, and the flag is the way.
      Expected<void> fits = text::check_single_line(name, value);
      if (fits && value.empty()) fits = fail(ErrorCode::invalid_input, "{} is empty", name);
      if (fits && std::string_view(name) == "lang") fits = text::check_lang(value);
      if (fits && std::string_view(name) == "title" && value.size() > record::k_max_title_bytes)
        fits = fail(ErrorCode::invalid_input, "title is {} bytes, more than the limit of {}", value.size(),
                    record::k_max_title_bytes);
      if (!fits) {
        page.warnings.push_back(fmt::format("the page's {} (from {}) is not recorded: {}; give --{}", name, found.from,
                                            fits.error().message, name));
        return std::nullopt;
      }
      page.metadata[name] = {value, found.from};
      return value;
    }
    if (previous) {
      const std::string_view n = name;
      const std::string& kept_value = n == "title" ? previous->title : n == "publisher" ? previous->publisher
                                      : n == "lang"  ? previous->lang
                                                     : std::string();
      if (!kept_value.empty()) {
        page.metadata[name] = {kept_value, "previous version"};
        return kept_value;
      }
    }
    return std::nullopt;
  };
  in.title = pick("title", req.title, &html::Metadata::title);
  in.published = pick("published", req.published, &html::Metadata::published);
  in.publisher = pick("publisher", req.publisher, &html::Metadata::publisher);
  in.lang = pick("lang", req.lang, &html::Metadata::lang);
  in.tz = req.tz;
  in.date_order = req.date_order;
  in.meta = req.meta;
  const auto put = [&](const char* key, const std::string& value) { in.meta[std::string(k_meta_prefix) + key] = value; };
  put("requested_uri", req.url);
  put("status", std::to_string(page.status));
  put("payload_sha256", page.payload_sha256);
  put("hops", std::to_string(page.hops));
  put("extractor", page.extractor);
  if (!page.content_type.empty()) put("content_type", page.content_type);
  if (auto ce = response.header("Content-Encoding"); ce && !trim(*ce).empty() && lower(trim(*ce)) != "identity")
    put("content_encoding", std::string(trim(*ce)));
  if (auto d = response.header("Date")) put("http_date", *d);
  if (auto lm = response.header("Last-Modified")) put("last_modified", *lm);
  if (!page.charset_from.empty()) put("charset_from", page.charset_from);
  if (req.selector && page.extractor == "selector") put("selector", *req.selector);
  in.captured_original = StatementInput::CapturedOriginal{kept.warc, k_warc_type, page.encoding};
  return in;
}

Expected<void> check_request(const CaptureRequest& req) {
  for (const auto& [key, value] : req.meta)
    if (key.starts_with(k_meta_prefix))
      return fail(ErrorCode::invalid_input, "--meta '{}': keys starting 'capture.' are written by avow only", key);
  return {};
}

// Run `fn(i)` for i in [0, n) on up to `jobs` threads (0: 4).
template <class Fn> void run_bounded(std::size_t n, unsigned jobs, Fn&& fn) {
  const std::size_t threads = std::min<std::size_t>(n, jobs == 0 ? 4 : jobs);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::jthread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) fn(i);
    });
}

// Tell `progress` (one call at a time) that one more of `total` is done.
struct CaptureProgress {
  const std::function<void(std::size_t, std::size_t, const std::string&)>& callback;
  std::size_t total;
  std::mutex mutex;
  std::size_t done = 0;
  void tick(const std::string& url) {
    std::lock_guard lock(mutex);
    ++done;
    if (callback) callback(done, total, url);
  }
};

// The records of `appended` matched to the inputs they came from (by label, in order): for each input, its record id.
std::vector<std::optional<std::string>> record_ids(const std::vector<StatementInput>& inputs, const AppendResult& appended) {
  std::vector<std::optional<std::string>> ids(inputs.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < inputs.size() && k < appended.records.size(); ++i)
    if (appended.records[k].label == inputs[i].label) ids[i] = appended.records[k++].id;
  return ids;
}

// Append `inputs` in one call. When append refuses one input of the batch (an error naming its label: private key
// material, a meta over its limit...), that page failed: it is dropped (`dropped(of[k], error)`) and the others are
// appended, unless options.all_or_nothing (then the error is returned, as for any other append error).
template <class Dropped>
Expected<AppendResult> append_each_failure_apart(Archive& archive, std::vector<StatementInput>& inputs,
                                                 std::vector<std::size_t>& of, const CaptureOptions& options,
                                                 Dropped&& dropped) {
  for (;;) {
    if (inputs.empty()) return AppendResult{};
    auto appended = archive.append(inputs, options.append);
    if (appended || options.all_or_nothing || appended.error().code != ErrorCode::invalid_input) return appended;
    const auto bad = std::find_if(inputs.begin(), inputs.end(), [&](const StatementInput& in) {
      return appended.error().message.starts_with("'" + in.label + "': ");
    });
    if (bad == inputs.end()) return appended;
    const auto k = static_cast<std::size_t>(bad - inputs.begin());
    dropped(of[k], appended.error());
    inputs.erase(bad);
    of.erase(of.begin() + static_cast<std::ptrdiff_t>(k));
  }
}

} // namespace

Expected<CaptureResult> Archive::capture_batch(const std::vector<CaptureRequest>& requests, const CaptureOptions& options) {
  if (requests.empty()) return fail(ErrorCode::invalid_input, "nothing to capture");
  CaptureResult result;
  result.pages.resize(requests.size());
  std::vector<std::optional<StatementInput>> made(requests.size());
  CaptureProgress progress{options.progress, requests.size(), {}, 0};
  run_bounded(requests.size(), options.jobs, [&](std::size_t i) {
    const auto& req = requests[i];
    auto& page = result.pages[i];
    page.requested_uri = req.url;
    auto input = [&]() -> Expected<StatementInput> {
      if (auto ok = check_request(req); !ok) return std::unexpected(ok.error());
      auto kept = fetch_and_keep(req.url, options.fetch);
      if (!kept) return std::unexpected(kept.error());
      describe(*kept, req.url, page);
      return make_statement(req, *kept, page);
    }();
    if (input) made[i] = std::move(*input);
    else page.error = input.error();
    progress.tick(req.url);
  });
  std::vector<StatementInput> inputs;
  std::vector<std::size_t> of_page;
  for (std::size_t i = 0; i < made.size(); ++i) {
    if (result.pages[i].error) ++result.failed;
    else {
      inputs.push_back(std::move(*made[i]));
      of_page.push_back(i);
    }
  }
  if (inputs.empty() || (options.all_or_nothing && result.failed > 0)) return result;
  auto appended = append_each_failure_apart(*this, inputs, of_page, options, [&](std::size_t page, Error e) {
    result.pages[page].error = std::move(e);
    ++result.failed;
  });
  if (!appended) return std::unexpected(appended.error());
  const auto ids = record_ids(inputs, *appended);
  for (std::size_t k = 0; k < inputs.size(); ++k) result.pages[of_page[k]].record_id = ids[k];
  result.append = std::move(*appended);
  return result;
}

Expected<CaptureResult> Archive::capture(const CaptureRequest& request, const CaptureOptions& options) {
  auto result = capture_batch({request}, options);
  if (!result) return result;
  if (result->pages.front().error) return std::unexpected(*result->pages.front().error);
  return result;
}

Expected<WatchResult> Archive::watch(const WatchOptions& options) {
  // The sources: the latest version of each http(s) source, from the derived index.
  auto head = m_impl->store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  std::vector<std::string> notices;
  auto idx = detail::fresh_index(*m_impl, **head, notices);
  if (!idx) return std::unexpected(idx.error());
  index::Filter filter;
  filter.kind = std::string(record::k_kind_statement);
  auto rows = idx->log(filter);
  if (!rows) return std::unexpected(rows.error());
  if (auto ok = detail::drop_after(*m_impl, **head, *rows); !ok) return std::unexpected(ok.error());
  std::map<std::string, index::Row> latest; // newest first: the first row of a source is its latest version
  for (auto& row : *rows)
    if (is_http_url(row.source)) latest.try_emplace(row.source, std::move(row));
  std::vector<const index::Row*> watched;
  if (!options.sources.empty()) {
    for (const auto& s : options.sources) {
      auto it = latest.find(s);
      if (it == latest.end())
        return fail(ErrorCode::not_found, "no http(s) statement from source '{}' in this archive", s);
      if (std::find(watched.begin(), watched.end(), &it->second) == watched.end()) watched.push_back(&it->second);
    }
  } else {
    for (const auto& [source, row] : latest) watched.push_back(&row);
  }
  if (options.publisher)
    std::erase_if(watched, [&](const index::Row* r) { return r->publisher != *options.publisher; });

  WatchResult result;
  result.sources.resize(watched.size());
  std::vector<std::optional<StatementInput>> made(watched.size());
  CaptureProgress progress{options.capture.progress, watched.size(), {}, 0};
  const auto& settings = options.capture.fetch;
  const bool recapture = options.capture.append.recapture;
  run_bounded(watched.size(), options.capture.jobs, [&](std::size_t i) {
    const index::Row& row = *watched[i];
    auto& w = result.sources[i];
    w.source = row.source;
    w.previous_id = row.id;
    CaptureRequest req;
    req.url = row.source;
    req.allow_status = true;
    std::string given_text_payload; // the payload whose text the user gave (--text-from), when that was so
    if (auto meta = nlohmann::json::parse(row.meta_json, nullptr, false); meta.is_object()) {
      if (auto it = meta.find("capture.selector"); it != meta.end() && it->is_string()) req.selector = it->get<std::string>();
      if (meta.value("capture.extractor", "") == "text-from") given_text_payload = meta.value("capture.payload_sha256", "");
    }
    const auto failed = [&](Error e) {
      w.status = WatchedSource::Status::failed;
      w.error = std::move(e);
    };
    auto kept = fetch_and_keep(req.url, settings);
    if (!kept) {
      failed(kept.error());
      progress.tick(req.url);
      return;
    }
    CapturedPage page;
    describe(*kept, req.url, page);
    w.http_status = page.status;
    const bool moved = page.final_uri != row.source;
    const bool gone = page.status == 404 || page.status == 410;
    if (moved || gone) {
      w.status = moved ? WatchedSource::Status::moved : WatchedSource::Status::gone;
      if (moved) w.moved_to = page.final_uri;
      if (options.record_gone) {
        // The evidence of the removal: the response's WARC, with the error page's text, else the status line(s).
        Expected<StatementInput> in = std::unexpected(Error{ErrorCode::invalid_input, "moved"});
        if (!moved) in = make_statement(req, *kept, page, &row);
        if (!in) {
          CaptureRequest bare = req;
          const auto& first = kept->fetched.hops.front().response;
          bare.text = moved ? fmt::format("{}\nLocation: {}\n", first.substr(0, first.find("\r\n")), page.final_uri)
                            : kept->view.response.start_line + "\n";
          in = make_statement(bare, *kept, page, &row);
          if (in) in->meta["capture.extractor"] = "status-line";
        }
        if (!in) {
          failed(in.error());
        } else {
          in->source = row.source;
          in->meta["capture.gone"] = moved ? std::string("moved") : std::to_string(page.status);
          made[i] = std::move(*in);
        }
      }
      progress.tick(req.url);
      return;
    }
    if (!given_text_payload.empty() && (page.status >= 200 && page.status <= 299)) {
      // A text the user gave for a payload avow cannot read (a PDF...): the same payload is the same statement; a
      // new one needs its text from the user again.
      if (page.payload_sha256 != given_text_payload) {
        failed(Error{ErrorCode::invalid_input,
                     fmt::format("{}: the response changed (payload sha256 {}, was {}) and its text was given with "
                                 "--text-from: capture it again with avow capture --text-from FILE",
                                 page.final_uri, page.payload_sha256, given_text_payload)});
        progress.tick(req.url);
        return;
      }
      auto old_text = m_impl->store.read(**head, record::text_path(row.text_sha256));
      if (!old_text) {
        failed(old_text.error());
        progress.tick(req.url);
        return;
      }
      req.text = std::move(*old_text);
    }
    auto in = make_statement(req, *kept, page, &row);
    if (in && (page.status < 200 || page.status > 299))
      in = fail(ErrorCode::io, "GET {}: the server answered {}", page.final_uri, status_text(kept->view.response));
    if (!in) {
      failed(in.error());
      progress.tick(req.url);
      return;
    }
    auto canonical = text::canonicalize(in->bytes);
    if (!canonical) {
      failed(Error{canonical.error().code, fmt::format("{}: {}", page.final_uri, canonical.error().message)});
      progress.tick(req.url);
      return;
    }
    if (to_hex(crypto::sha256(canonical->text)) == row.text_sha256) {
      w.status = WatchedSource::Status::unchanged;
      if (recapture) made[i] = std::move(*in);
    } else {
      w.status = WatchedSource::Status::changed;
      auto old_text = m_impl->store.read(**head, record::text_path(row.text_sha256));
      Expected<std::vector<text::DiffRun>> diff = std::unexpected(Error{});
      if (old_text) diff = text::word_diff(*old_text, canonical->text);
      else diff = std::unexpected(old_text.error());
      if (!diff) failed(diff.error());
      else {
        w.diff = std::move(*diff);
        made[i] = std::move(*in);
      }
    }
    progress.tick(req.url);
  });

  std::vector<StatementInput> inputs;
  std::vector<std::size_t> of_source;
  for (std::size_t i = 0; i < made.size(); ++i)
    if (made[i]) {
      made[i]->label = result.sources[i].source;
      inputs.push_back(std::move(*made[i]));
      of_source.push_back(i);
    }
  auto appended = append_each_failure_apart(*this, inputs, of_source, options.capture, [&](std::size_t i, Error e) {
    result.sources[i].status = WatchedSource::Status::failed;
    result.sources[i].error = std::move(e);
  });
  if (!appended) return std::unexpected(appended.error());
  const auto ids = record_ids(inputs, *appended);
  for (std::size_t k = 0; k < inputs.size(); ++k) result.sources[of_source[k]].record_id = ids[k];
  for (const auto& w : result.sources) {
    switch (w.status) {
    case WatchedSource::Status::unchanged: ++result.unchanged; break;
    case WatchedSource::Status::changed: ++result.changed; break;
    case WatchedSource::Status::gone: ++result.gone; break;
    case WatchedSource::Status::moved: ++result.moved; break;
    case WatchedSource::Status::failed: ++result.failed; break;
    }
  }
  appended->notices.insert(appended->notices.begin(), notices.begin(), notices.end());
  result.append = std::move(*appended);
  return result;
}

} // namespace avow
