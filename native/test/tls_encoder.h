// A C++ twin of src/route-table/encode-tls.ts (the layout is in
// native/core/tls_decoder.h), for tests and the TLS decoder's fuzz target.
// It checks nothing: tests use it to build valid encodings, then break them.
// Framing for corpus files and fuzz inputs: model_encoder.h's frame().
#pragma once

#include "model_encoder.h"
#include "tls_input.h"

namespace atsi::testing {

// Strings are numbered in the order they are written, as encode-tls.ts does;
// an empty CA is written as kNone.
EncodedModel encode_tls(const TlsInput& in);

// A small TLS input of every kind of element: three certificates (one the
// default), a policy of each verify mode, exact and wildcard hosts, with and
// without certificate or policy. The PEM texts are placeholders (the core
// never parses them).
TlsInput sample_tls_input();

// "-----BEGIN <what>-----\n<body>\n-----END <what>-----\n"
std::string fake_pem(const std::string& what, const std::string& body);

}  // namespace atsi::testing
