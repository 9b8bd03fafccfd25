// A C++ twin of src/route-table/encode-model.ts's encoder (the layout is in
// native/core/model_decoder.h), for tests and the decoder's fuzz target. It
// checks nothing: tests use it to build valid encodings, then break them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "table_input.h"

namespace atsi::testing {

struct EncodedModel {
  std::string strings;  // NUL-separated
  std::vector<uint32_t> ints;
};

// Strings are numbered in the order they are written, as encode-model.ts
// does; empty optional strings (problem, default source) are written as kNone.
EncodedModel encode_model(const TableInput& in);

// A small model with every field of the Gateway API part set somewhere
// (IPv4 and IPv6 listeners, each filter kind, an invalid choice, a failing
// rule), for the decoder's tests and its fuzz corpus. Addresses are given as
// bytes, as the decoder gives them back.
TableInput gateway_sample();

// One byte string for a fuzz input or a corpus file: the strings' length as
// a little-endian u32, the strings, then the ints (little-endian). unframe()
// takes any bytes: a short length prefix gives empty parts, and trailing
// bytes that make no whole int are dropped.
std::string frame(const EncodedModel& m);
EncodedModel unframe(std::string_view bytes);

}  // namespace atsi::testing
