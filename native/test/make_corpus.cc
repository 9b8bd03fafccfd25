// Writes seed corpora for the fuzz targets: valid tables for fuzz_reader
// (native/test/corpus) and, when a second directory is given, the same
// models encoded and framed for fuzz_decoder (native/test/corpus-decoder).
#include <cstdio>
#include <fstream>
#include <string>

#include "model_encoder.h"
#include "test_tables.h"

using namespace atsi;
using namespace atsi::testing;

static std::string decoder_dir;

static void write(const std::string& dir, const std::string& name, const TableInput& in) {
  std::vector<uint8_t> b = build_bytes(in, 3);
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  if (!decoder_dir.empty()) {
    std::string framed = frame(encode_model(in));
    std::ofstream d(decoder_dir + "/" + name, std::ios::binary);
    d.write(framed.data(), std::streamsize(framed.size()));
  }
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: make_corpus READER_DIR [DECODER_DIR]\n");
    return 2;
  }
  std::string dir = argv[1];
  if (argc == 3) decoder_dir = argv[2];
  write(dir, "empty", TableInput{});
  {
    TableBuilder t;
    uint32_t a = t.backend("ns/a", {"10.0.0.1:80", "10.0.0.2:80"});
    uint32_t b = t.backend("ns/b", {"[::1]:8080*3", "10.0.0.3:80*1"});
    t.input().backends[b].options.connect_timeout_ms = 100;
    t.input().backends[b].options.upstream_host = "up.b";
    InputOptions& cache = t.input().backends[a].options;
    cache.cache_default_ttl_s = 60;
    cache.cache_max_ttl_s = 3600;
    cache.cache_ignore_query = true;
    cache.cache_serve_stale_s = 30;
    cache.cache_generation = 2;
    cache.stats_slot = 5;
    t.input().backends[b].options.cache_policy = 1;
    uint32_t c = t.backend("ns/c", {});
    t.host("a.com").prefix("/", a).exact("/x", b).prefix("/y/z", c).host_default(b);
    t.host("*.b.com").prefix("/y", b);
    t.host("").prefix("/p", a);
    t.table_default(c);
    write(dir, "mixed", t.input());
  }
  {
    TableBuilder t;
    uint32_t a = t.backend("ns/a", {"10.0.0.1:80"});
    for (int h = 0; h < 20; ++h) {
      t.host("h" + std::to_string(h) + ".com");
      for (int r = 0; r < 5; ++r) t.prefix("/foo/bar/" + std::to_string(r), a);
    }
    write(dir, "many", t.input());
  }
  // Every part of the Gateway API sections, for both targets.
  write(dir, "gateway", gateway_sample());
  return 0;
}
