// Writes the seed corpora of the TLS fuzz targets: valid TLS tables for
// fuzz_tls_reader (native/test/corpus-tls) and the same inputs encoded and
// framed for fuzz_tls_decoder (native/test/corpus-tls-decoder).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tls_encoder.h"
#include "tls_format.h"
#include "tls_writer.h"

using namespace atsi;
using namespace atsi::testing;

static void write(const std::string& reader_dir, const std::string& decoder_dir, const std::string& name,
                  const TlsInput& in) {
  std::vector<uint8_t> b;
  if (Error e = build_tls_table(in, 3, 0, b)) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.message.c_str());
    std::exit(1);
  }
  std::ofstream f(reader_dir + "/" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  std::string framed = frame(encode_tls(in));
  std::ofstream d(decoder_dir + "/" + name, std::ios::binary);
  d.write(framed.data(), std::streamsize(framed.size()));
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_tls_corpus READER_DIR DECODER_DIR\n");
    return 2;
  }
  write(argv[1], argv[2], "empty", TlsInput{});
  write(argv[1], argv[2], "sample", sample_tls_input());
  {
    TlsInput in;
    in.certificates.push_back({"ns/c", fake_pem("CERTIFICATE", "x"), fake_pem("PRIVATE KEY", "y"), 0});
    for (int i = 0; i < 20; ++i) {
      in.hosts.push_back({"h" + std::to_string(i) + ".gen.test", 0, kNone});
      in.hosts.push_back({"*.w" + std::to_string(i) + ".gen.test", kNone, kNone});
    }
    write(argv[1], argv[2], "many", in);
  }
  return 0;
}
