// Write a sample web capture as avow's WARC writer writes it (warc::write_capture), for the warcio check
// (tests/capture/warcio_test.sh): a redirect, then a chunked, gzip-coded HTML response.
// usage: warc_write_sample OUT.warc.gz

#include <archive/warc/warc.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: warc_write_sample OUT.warc.gz\n");
    return 2;
  }
  // "<p>Hello, warcio</p>\n" gzip-coded (Python gzip.compress(mtime=0)), sent in two chunks.
  const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xb3, 0x29, 0xb0, 0xf3,
                              0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x28, 0x4f, 0x2c, 0x4a, 0xce, 0xcc, 0xb7, 0xd1,
                              0x2f, 0xb0, 0xe3, 0x02, 0x00, 0x1d, 0x9a, 0x39, 0x7b, 0x15, 0x00, 0x00, 0x00};
  const std::string body(reinterpret_cast<const char*>(gz), sizeof gz);
  const std::string chunked = "10\r\n" + body.substr(0, 16) + "\r\n" + fmt::format("{:x}\r\n", body.size() - 16) +
                              body.substr(16) + "\r\n0\r\n\r\n";
  avow::warc::Capture c;
  c.software = "avow/0.1.0";
  c.date = "2026-11-30T12:00:00Z";
  c.info = {{"requested-url", "http://example.test/old"}};
  const auto request = [](const char* path) {
    return std::string("GET ") + path + " HTTP/1.1\r\nHost: example.test\r\nUser-Agent: avow/0.1.0\r\nAccept: */*\r\n"
           "Accept-Encoding: identity\r\n\r\n";
  };
  c.exchanges = {
      {"http://example.test/old", "127.0.0.1", "2026-11-30T12:00:00Z", request("/old"),
       "HTTP/1.1 301 Moved Permanently\r\nLocation: http://example.test/new\r\nContent-Length: 0\r\n\r\n"},
      {"http://example.test/new", "127.0.0.1", "2026-11-30T12:00:01Z", request("/new"),
       "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
       "Transfer-Encoding: chunked\r\n\r\n" + chunked}};
  auto bytes = avow::warc::write_capture(c);
  if (!bytes) {
    std::fprintf(stderr, "warc_write_sample: %s\n", bytes.error().message.c_str());
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  return out.good() ? 0 : 1;
}
