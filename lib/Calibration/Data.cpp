//===- Data.cpp - calibration data files (.npy / .npz / ONNX test sets) ----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"
#include "qopt/Support/TensorFile.h"

#include "onnx/onnx_pb.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

using namespace llvm;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

static const char *dtypeName(int32_t dt) {
  switch (dt) {
  case 1: return "float32"; case 2: return "uint8"; case 3: return "int8";
  case 4: return "uint16"; case 5: return "int16"; case 6: return "int32";
  case 7: return "int64"; case 9: return "bool"; case 10: return "float16";
  case 11: return "float64"; case 12: return "uint32"; case 13: return "uint64";
  case 16: return "bfloat16";
  }
  return "unknown";
}

static std::string shapeStr(ArrayRef<int64_t> s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

using Array = ::qopt::HostTensor;
using ::qopt::dtypeSize;

/// The members of a .npz (zip) archive, read through its central directory;
/// stored and deflated members.
static bool readZip(StringRef z, const std::string &path,
                    std::vector<std::pair<std::string, std::string>> &members,
                    std::string &err) {
  auto u16 = [&](size_t o) -> uint32_t {
    return (unsigned char)z[o] | ((unsigned char)z[o + 1] << 8);
  };
  auto u32 = [&](size_t o) -> uint64_t {
    return (uint64_t)u16(o) | ((uint64_t)u16(o + 2) << 16);
  };
  // End of central directory: the last "PK\5\6" within 64 KiB + 22 bytes.
  if (z.size() < 22) {
    err = "'" + path + "' is not a .npz (zip) archive";
    return false;
  }
  size_t eocd = StringRef::npos;
  for (size_t o = z.size() - 22;; --o) {
    if (z.substr(o, 4) == "PK\x05\x06") {
      eocd = o;
      break;
    }
    if (o == 0 || z.size() - o > 65557)
      break;
  }
  if (eocd == StringRef::npos) {
    err = "'" + path + "' is not a .npz (zip) archive";
    return false;
  }
  uint64_t n = u16(eocd + 10), cdOff = u32(eocd + 16);
  size_t o = cdOff;
  for (uint64_t i = 0; i < n; ++i) {
    if (o + 46 > z.size() || z.substr(o, 4) != "PK\x01\x02") {
      err = "corrupt zip central directory in '" + path + "'";
      return false;
    }
    uint32_t method = u16(o + 10);
    uint64_t csize = u32(o + 20), usize = u32(o + 24);
    uint32_t nlen = u16(o + 28), xlen = u16(o + 30), clen = u16(o + 32);
    uint64_t loff = u32(o + 42);
    std::string name = z.substr(o + 46, nlen).str();
    if (csize == 0xffffffffu || usize == 0xffffffffu || loff == 0xffffffffu) {
      err = "'" + path + "': member '" + name +
            "' is a ZIP64 entry (over 4 GiB), not supported";
      return false;
    }
    o += 46 + nlen + xlen + clen;
    if (loff + 30 > z.size() || z.substr(loff, 4) != "PK\x03\x04") {
      err = "corrupt zip member '" + name + "' in '" + path + "'";
      return false;
    }
    size_t dataOff = loff + 30 + u16(loff + 26) + u16(loff + 28);
    if (dataOff + csize > z.size()) {
      err = "truncated zip member '" + name + "' in '" + path + "'";
      return false;
    }
    StringRef comp = z.substr(dataOff, csize);
    std::string out;
    if (method == 0) {
      out = comp.str();
    } else if (method == 8) {
      out.resize(usize);
      z_stream zs{};
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        err = "zlib init failed";
        return false;
      }
      zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(comp.data()));
      zs.avail_in = (uInt)comp.size();
      zs.next_out = (Bytef *)out.data();
      zs.avail_out = (uInt)out.size();
      int rc = inflate(&zs, Z_FINISH);
      inflateEnd(&zs);
      if (rc != Z_STREAM_END || zs.total_out != usize) {
        err = "cannot inflate zip member '" + name + "' in '" + path + "'";
        return false;
      }
    } else {
      err = "zip member '" + name + "' in '" + path +
            "' uses compression method " + std::to_string(method) +
            " (only stored and deflate are supported)";
      return false;
    }
    members.push_back({name, std::move(out)});
  }
  return true;
}

/// Checks `a` = [S, *input.shape] of input.dtype.
static bool checkStacked(const Array &a, const ModelInput &in,
                         const std::string &what, std::string &err) {
  std::vector<int64_t> want = {-1};
  want.insert(want.end(), in.shape.begin(), in.shape.end());
  bool ok = a.dtype == in.dtype && a.shape.size() == want.size();
  for (size_t i = 1; ok && i < want.size(); ++i)
    ok = want[i] < 0 || a.shape[i] == want[i]; // -1: a run-time dim
  if (ok)
    return true;
  std::string expect = "[S";
  for (int64_t d : in.shape)
    expect += "," + (d < 0 ? std::string("?") : std::to_string(d));
  expect += "]";
  err = what + ": model input '" + in.name + "' needs " +
        dtypeName(in.dtype) + " " + expect +
        " (a leading sample axis, then the input's shape " +
        shapeStr(in.shape) + "), got " + dtypeName(a.dtype) + " " +
        shapeStr(a.shape);
  return false;
}

static void splitSamples(const Array &a, size_t inputIndex,
                         const ModelInput &in, size_t numSamples,
                         std::vector<Sample> &samples) {
  size_t per = a.data.size() / std::max<size_t>(a.shape[0], 1);
  for (size_t s = 0; s < numSamples; ++s) {
    InputTensor &t = samples[s][inputIndex];
    t.name = in.name;
    t.dtype = in.dtype;
    t.shape.assign(a.shape.begin() + 1, a.shape.end());
    t.data.assign(a.data.data() + s * per, a.data.data() + (s + 1) * per);
  }
}

static bool readTensorProtoFile(StringRef path, InputTensor &t,
                                std::string &err) {
  ::qopt::HostTensor h;
  if (!::qopt::readTensorProto(path, h, err))
    return false;
  t.name = std::move(h.name);
  t.dtype = h.dtype;
  t.shape = std::move(h.shape);
  t.data = std::move(h.data);
  return true;
}

/// A decoder in the Optimum layout: input_ids, and only attention_mask,
/// position_ids and past_key_values.* besides.
static bool isKVDecoder(const std::vector<ModelInput> &inputs) {
  bool ids = false, past = false;
  for (const ModelInput &in : inputs) {
    StringRef n = in.name;
    ids |= n == "input_ids";
    past |= n.starts_with("past_key_values.");
    if (n != "input_ids" && n != "attention_mask" && n != "position_ids" &&
        !n.starts_with("past_key_values."))
      return false;
  }
  return ids && past;
}

/// The other inputs of a prefill call with past length 0 for the
/// input_ids sample s[ids] ([batch, S]): an all-ones mask [batch, S],
/// positions 0..S-1, and empty caches (the dynamic dims 0 but the batch).
static void prefillInputs(const std::vector<ModelInput> &inputs, size_t ids,
                          Sample &s) {
  std::vector<int64_t> shape = s[ids].shape;
  int64_t batch = shape.size() == 2 ? shape[0] : 1,
          len = shape.size() == 2 ? shape[1] : 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (k == ids)
      continue;
    const ModelInput &in = inputs[k];
    InputTensor &t = s[k];
    t.name = in.name;
    t.dtype = in.dtype;
    if (in.name == "attention_mask" || in.name == "position_ids") {
      t.shape = {batch, len};
      std::vector<int64_t> v(batch * len);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t i = 0; i < len; ++i)
          v[b * len + i] = in.name == "attention_mask" ? 1 : i;
      t.data.assign((const char *)v.data(), (const char *)(v.data() + v.size()));
      continue;
    }
    t.shape = in.shape;
    for (size_t d = 0; d < t.shape.size(); ++d)
      if (t.shape[d] < 0)
        t.shape[d] = d == 0 ? batch : 0;
    t.data.clear(); // zero elements
  }
}

bool calib::loadCalibrationData(StringRef path,
                                const std::vector<ModelInput> &inputs,
                                int64_t maxSamples,
                                std::vector<Sample> &samples,
                                std::string &err) {
  samples.clear();
  std::string p = path.str();
  if (!sys::fs::exists(path)) {
    err = "calibration data '" + p + "' does not exist";
    return false;
  }
  auto cap = [&](size_t n) {
    return maxSamples > 0 ? std::min<size_t>(n, (size_t)maxSamples) : n;
  };
  if (sys::fs::is_directory(path)) {
    // ONNX test-data sets: test_data_set_*/input_*.pb.
    std::vector<std::string> sets;
    std::error_code ec;
    for (sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
         it.increment(ec))
      if (sys::path::filename(it->path()).starts_with("test_data_set_") &&
          sys::fs::is_directory(it->path()))
        sets.push_back(it->path());
    llvm::sort(sets, [](const std::string &a, const std::string &b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    if (sets.empty()) {
      err = "calibration directory '" + p +
            "' has no test_data_set_* subdirectories";
      return false;
    }
    sets.resize(cap(sets.size()));
    for (const std::string &dir : sets) {
      Sample s(inputs.size());
      std::vector<bool> have(inputs.size(), false);
      for (size_t i = 0;; ++i) {
        SmallString<256> f(dir);
        sys::path::append(f, "input_" + std::to_string(i) + ".pb");
        if (!sys::fs::exists(f))
          break;
        InputTensor t;
        if (!readTensorProtoFile(f, t, err))
          return false;
        size_t k = i;
        if (!t.name.empty()) {
          auto it = llvm::find_if(inputs, [&](const ModelInput &in) {
            return in.name == t.name;
          });
          if (it == inputs.end()) {
            err = "'" + f.str().str() + "': the model has no input named '" +
                  t.name + "'";
            return false;
          }
          k = it - inputs.begin();
        }
        if (k >= inputs.size()) {
          err = "'" + f.str().str() + "': the model has only " +
                std::to_string(inputs.size()) + " input(s)";
          return false;
        }
        const ModelInput &in = inputs[k];
        if (t.dtype != in.dtype || t.shape != in.shape) {
          err = "'" + f.str().str() + "': model input '" + in.name +
                "' needs " + dtypeName(in.dtype) + " " + shapeStr(in.shape) +
                ", got " + dtypeName(t.dtype) + " " + shapeStr(t.shape);
          return false;
        }
        t.name = in.name;
        s[k] = std::move(t);
        have[k] = true;
      }
      for (size_t k = 0; k < inputs.size(); ++k)
        if (!have[k]) {
          err = "'" + dir + "': no tensor for model input '" + inputs[k].name +
                "'";
          return false;
        }
      samples.push_back(std::move(s));
    }
    return true;
  }
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buf) {
    err = "cannot read '" + p + "': " + buf.getError().message();
    return false;
  }
  StringRef bytes = (*buf)->getBuffer();
  if (bytes.starts_with("\x93NUMPY")) {
    if (inputs.size() != 1 && isKVDecoder(inputs)) {
      // input_ids windows of a KV decoder: prefill calls with past 0.
      auto ids = llvm::find_if(inputs, [](const ModelInput &in) {
        return in.name == "input_ids";
      });
      Array a;
      if (!::qopt::parseNpy(bytes, "'" + p + "'", a, err) ||
          !checkStacked(a, *ids, "'" + p + "'", err))
        return false;
      if (a.shape[0] == 0) {
        err = "'" + p + "' holds no samples";
        return false;
      }
      size_t n = cap(a.shape[0]);
      samples.assign(n, Sample(inputs.size()));
      splitSamples(a, ids - inputs.begin(), *ids, n, samples);
      for (Sample &s : samples)
        prefillInputs(inputs, ids - inputs.begin(), s);
      return true;
    }
    if (inputs.size() != 1) {
      err = "'" + p + "': a .npy file can only calibrate a single-input "
            "model; this model has " + std::to_string(inputs.size()) +
            " inputs: use a .npz with one array per input name";
      return false;
    }
    Array a;
    if (!::qopt::parseNpy(bytes, "'" + p + "'", a, err) ||
        !checkStacked(a, inputs[0], "'" + p + "'", err))
      return false;
    if (a.shape[0] == 0) {
      err = "'" + p + "' holds no samples";
      return false;
    }
    size_t n = cap(a.shape[0]);
    samples.assign(n, Sample(1));
    splitSamples(a, 0, inputs[0], n, samples);
    return true;
  }
  if (bytes.starts_with("PK")) {
    std::vector<std::pair<std::string, std::string>> members;
    if (!readZip(bytes, p, members, err))
      return false;
    std::vector<Array> arrays(inputs.size());
    int64_t count = -1;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const ModelInput &in = inputs[k];
      auto it = llvm::find_if(members, [&](auto &m) {
        return m.first == in.name + ".npy" || m.first == in.name;
      });
      if (it == members.end()) {
        std::string names;
        for (auto &m : members)
          names += (names.empty() ? "" : ", ") + m.first;
        err = "'" + p + "' has no array for model input '" + in.name +
              "' (arrays: " + (names.empty() ? "none" : names) + ")";
        return false;
      }
      std::string what = "'" + p + "' array '" + in.name + "'";
      if (!::qopt::parseNpy(it->second, what, arrays[k], err) ||
          !checkStacked(arrays[k], in, what, err))
        return false;
      if (count >= 0 && arrays[k].shape[0] != count) {
        err = what + " has " + std::to_string(arrays[k].shape[0]) +
              " samples, but the other arrays have " + std::to_string(count);
        return false;
      }
      count = arrays[k].shape[0];
    }
    if (count <= 0) {
      err = "'" + p + "' holds no samples";
      return false;
    }
    size_t n = cap(count);
    samples.assign(n, Sample(inputs.size()));
    for (size_t k = 0; k < inputs.size(); ++k)
      splitSamples(arrays[k], k, inputs[k], n, samples);
    // `members` owns the bytes the arrays point into: already copied.
    return true;
  }
  err = "'" + p + "' is not calibration data: expected a .npy, a .npz or a "
        "directory of ONNX test-data sets (a raw token file such as "
        "calib_tokens.bin must be converted first, e.g. with "
        "python/qopt/tokens_to_npy.py)";
  return false;
}
