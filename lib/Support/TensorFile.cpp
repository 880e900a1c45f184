//===- TensorFile.cpp - .npy and ONNX TensorProto tensor files ------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Support/TensorFile.h"

#include "onnx/onnx_pb.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;

namespace qopt {

size_t dtypeSize(int32_t dt) {
  switch (dt) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  }
  return 0;
}

static const struct { const char *descr; int32_t dtype; } kDescrs[] = {
    {"<f4", 1}, {"|u1", 2}, {"|i1", 3}, {"<u2", 4}, {"<i2", 5}, {"<i4", 6},
    {"<i8", 7}, {"|b1", 9}, {"<f2", 10}, {"<f8", 11}, {"<u4", 12}, {"<u8", 13},
    {"<u1", 2}, {"<i1", 3}, {"<b1", 9}};

bool readNpy(StringRef path, HostTensor &t, std::string &err) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buf) {
    err = "cannot read '" + path.str() + "': " + buf.getError().message();
    return false;
  }
  return parseNpy((*buf)->getBuffer(), "'" + path.str() + "'", t, err);
}

bool parseNpy(StringRef s, const std::string &what, HostTensor &t,
              std::string &err) {
  if (s.size() < 10 || !s.starts_with("\x93NUMPY")) {
    err = what + " is not a .npy file";
    return false;
  }
  unsigned major = (unsigned char)s[6];
  size_t hlen, hoff;
  if (major == 1) {
    hlen = (unsigned char)s[8] | ((unsigned char)s[9] << 8);
    hoff = 10;
  } else {
    if (s.size() < 12) { err = "truncated .npy header in " + what; return false; }
    hlen = (unsigned char)s[8] | ((unsigned char)s[9] << 8) |
           ((unsigned char)s[10] << 16) | ((size_t)(unsigned char)s[11] << 24);
    hoff = 12;
  }
  if (hoff + hlen > s.size()) {
    err = "truncated .npy header in " + what;
    return false;
  }
  StringRef h = s.substr(hoff, hlen);
  auto field = [&](StringRef key) -> StringRef {
    size_t p = h.find(("'" + key + "'").str());
    if (p == StringRef::npos) return {};
    StringRef rest = h.substr(p + key.size() + 2).ltrim(" :");
    return rest;
  };
  StringRef d = field("descr");
  if (d.size() < 2 || (d[0] != '\'' && d[0] != '"')) {
    err = "bad .npy header in " + what;
    return false;
  }
  StringRef descr = d.substr(1, d.find(d[0], 1) - 1);
  t.dtype = 0;
  for (auto &e : kDescrs)
    if (descr == e.descr) t.dtype = e.dtype;
  if (!t.dtype) {
    err = "unsupported .npy dtype '" + descr.str() + "' in " + what +
          " (little-endian numeric or bool only)";
    return false;
  }
  if (field("fortran_order").starts_with("True")) {
    err = "Fortran-order .npy not supported: " + what;
    return false;
  }
  StringRef sh = field("shape");
  if (!sh.starts_with("(")) {
    err = "bad .npy shape in " + what;
    return false;
  }
  sh = sh.substr(1, sh.find(')') - 1);
  t.shape.clear();
  SmallVector<StringRef> parts;
  sh.split(parts, ',');
  size_t count = 1;
  for (StringRef p : parts) {
    p = p.trim();
    if (p.empty()) continue;
    int64_t v;
    if (p.getAsInteger(10, v) || v < 0) {
      err = "bad .npy shape in " + what;
      return false;
    }
    t.shape.push_back(v);
    // Saturate: an overflowing shape is simply larger than the file.
    count = v && count > SIZE_MAX / 16 / (size_t)v ? SIZE_MAX / 16
                                                    : count * (size_t)v;
  }
  size_t bytes = count * dtypeSize(t.dtype);
  if (s.size() - hoff - hlen < bytes) {
    err = what + " holds fewer bytes than its shape says";
    return false;
  }
  const char *p = s.data() + hoff + hlen;
  t.data.assign(p, p + bytes);
  return true;
}

bool writeNpy(llvm::StringRef path, const HostTensor &t, std::string &err) {
  std::string bytes = encodeNpy(t);
  llvm::Error e = llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << bytes;
    return llvm::Error::success();
  });
  if (!e)
    return true;
  err = "cannot write '" + path.str() + "': " + llvm::toString(std::move(e));
  return false;
}

std::string encodeNpy(const HostTensor &t) {
  // bfloat16 (16): NumPy has no such type; write the bits as uint16.
  const char *descr = t.dtype == 16 ? "<u2" : nullptr;
  for (auto &e : kDescrs)
    if (!descr && e.dtype == t.dtype) { descr = e.descr; break; }
  if (!descr) descr = "|u1"; // never happens: every ABI dtype is listed
  std::string shape = "(";
  for (int64_t d : t.shape) shape += std::to_string(d) + ", ";
  if (t.shape.size() > 1) shape.resize(shape.size() - 2);
  else if (t.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += "\n";
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  out.push_back((char)(header.size() & 255));
  out.push_back((char)(header.size() >> 8));
  out += header;
  out.append(t.data.begin(), t.data.end());
  return out;
}

bool readTensorProto(StringRef path, HostTensor &t, std::string &err) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buf) {
    err = "cannot read '" + path.str() + "': " + buf.getError().message();
    return false;
  }
  onnx::TensorProto tp;
  if (!tp.ParseFromArray((*buf)->getBufferStart(), (int)(*buf)->getBufferSize())) {
    err = "'" + path.str() + "' is not a binary ONNX TensorProto";
    return false;
  }
  t.name = tp.name();
  t.dtype = tp.data_type();
  size_t es = dtypeSize(t.dtype);
  if (!es) {
    err = "unsupported TensorProto data type " + std::to_string(t.dtype) +
          " in '" + path.str() + "'";
    return false;
  }
  t.shape.assign(tp.dims().begin(), tp.dims().end());
  size_t count = 1;
  for (int64_t d : t.shape) {
    // The data lies in the file: a larger (or negative) shape is corrupt.
    if (d < 0 || (d && count > (*buf)->getBufferSize() / (size_t)d)) {
      err = "bad TensorProto shape in '" + path.str() + "'";
      return false;
    }
    count *= d;
  }
  if (count > (*buf)->getBufferSize()) {
    err = "bad TensorProto shape in '" + path.str() + "'";
    return false;
  }
  t.data.assign(count * es, 0);
  if (tp.has_data_location() &&
      tp.data_location() == onnx::TensorProto::EXTERNAL) {
    err = "external data in '" + path.str() + "' is not supported";
    return false;
  }
  if (!tp.raw_data().empty()) {
    if (tp.raw_data().size() != count * es) {
      err = "raw_data size mismatch in '" + path.str() + "'";
      return false;
    }
    memcpy(t.data.data(), tp.raw_data().data(), count * es);
    return true;
  }
  auto fill = [&](auto &field, auto conv) -> bool {
    if ((size_t)field.size() != count) {
      err = "element count mismatch in '" + path.str() + "'";
      return false;
    }
    for (size_t i = 0; i < count; ++i) conv(i, field.Get(i));
    return true;
  };
  char *p = t.data.data();
  switch (t.dtype) {
  case 1: return fill(tp.float_data(), [&](size_t i, float v) { memcpy(p + 4 * i, &v, 4); });
  case 11: return fill(tp.double_data(), [&](size_t i, double v) { memcpy(p + 8 * i, &v, 8); });
  case 7: return fill(tp.int64_data(), [&](size_t i, int64_t v) { memcpy(p + 8 * i, &v, 8); });
  case 12: case 13: return fill(tp.uint64_data(), [&](size_t i, uint64_t v) { memcpy(p + es * i, &v, es); });
  default: // int32_data carries the narrower integer types, bool, fp16 bits
    return fill(tp.int32_data(), [&](size_t i, int32_t v) { memcpy(p + es * i, &v, es); });
  }
}
} // namespace qopt
