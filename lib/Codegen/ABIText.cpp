//===- ABIText.cpp - the ABI description text (docs/abi.md) ---------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "ABIText.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt::abi {

static std::string encode(StringRef s, bool dim) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    bool keep = llvm::isAlnum(c) || c == '.' || c == '_' || c == '-';
    if (dim && (c == 'x' || (i == 0 && llvm::isDigit(c))))
      keep = false;
    if (keep) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(llvm::hexdigit(c >> 4, /*LowerCase=*/false));
      out.push_back(llvm::hexdigit(c & 15, /*LowerCase=*/false));
    }
  }
  return out.empty() ? "%" : out;
}

std::string encodeName(StringRef name) { return encode(name, false); }
std::string encodeDimName(StringRef name) { return encode(name, true); }

std::string decodeName(StringRef s) {
  if (s == "%")
    return "";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && llvm::isHexDigit(s[i + 1]) &&
        llvm::isHexDigit(s[i + 2])) {
      out.push_back((char)(llvm::hexDigitValue(s[i + 1]) * 16 +
                           llvm::hexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

int dtypeBytes(int dt) {
  switch (dt) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  }
  return 0;
}

static void printTensor(llvm::raw_ostream &os, StringRef kind,
                        const TensorDesc &t) {
  os << kind << " " << encodeName(t.name) << " " << t.dtype << " ";
  if (t.dims.empty())
    os << "scalar";
  for (auto [i, d] : llvm::enumerate(t.dims)) {
    if (i)
      os << "x";
    StringRef name = i < t.dimNames.size() ? StringRef(t.dimNames[i]) : "";
    if (d >= 0)
      os << d;
    else if (name.empty())
      os << "?";
    else
      os << encodeDimName(name);
  }
  os << "\n";
}

std::string print(const Desc &d) {
  bool v2 = d.dynamic || d.version >= 2;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "qopt-abi " << (v2 ? 2 : 1) << "\n";
  if (v2)
    os << "entry " << (d.dynamic ? "dynamic" : "static") << "\n";
  for (const TensorDesc &t : d.inputs)
    printTensor(os, "input", t);
  for (const TensorDesc &t : d.outputs)
    printTensor(os, "output", t);
  if (v2)
    for (auto &[name, max] : d.dimMax)
      os << "dim " << encodeDimName(name) << " " << max << "\n";
  for (const CacheDesc &c : d.caches)
    os << "cache " << encodeName(c.input) << " " << encodeName(c.present)
       << " " << c.axis << " " << encodeDimName(c.totalDim) << " "
       << encodeDimName(c.newDim) << "\n";
  os << "weights " << d.weightBytes << "\n";
  return text;
}

static LogicalResult parseShape(StringRef s, int version, TensorDesc &t) {
  if (s == "scalar")
    return success();
  SmallVector<StringRef> toks;
  s.split(toks, 'x');
  for (StringRef tok : toks) {
    int64_t v;
    if (!tok.empty() && llvm::all_of(tok, llvm::isDigit)) {
      if (tok.getAsInteger(10, v) || v < 0)
        return failure();
      t.dims.push_back(v);
      t.dimNames.emplace_back();
    } else if (version >= 2 && tok == "?") {
      t.dims.push_back(-1);
      t.dimNames.emplace_back();
    } else if (version >= 2 && !tok.empty() && !llvm::isDigit(tok[0])) {
      t.dims.push_back(-1);
      t.dimNames.push_back(decodeName(tok));
    } else {
      return failure();
    }
  }
  return success();
}

LogicalResult parse(StringRef text, Desc &d) {
  SmallVector<StringRef> lines;
  text.split(lines, '\n', -1, /*KeepEmpty=*/false);
  if (lines.empty())
    return failure();
  if (lines[0] == "qopt-abi 1")
    d.version = 1;
  else if (lines[0] == "qopt-abi 2")
    d.version = 2;
  else
    return failure();
  for (StringRef line : ArrayRef(lines).drop_front()) {
    SmallVector<StringRef> f;
    line.split(f, ' ');
    if (f.size() == 2 && f[0] == "weights") {
      if (f[1].getAsInteger(10, d.weightBytes))
        return failure();
    } else if (d.version >= 2 && f.size() == 2 && f[0] == "entry") {
      if (f[1] != "static" && f[1] != "dynamic")
        return failure();
      d.dynamic = f[1] == "dynamic";
    } else if (d.version >= 2 && f.size() == 3 && f[0] == "dim") {
      int64_t max;
      if (f[2].getAsInteger(10, max) || max < 0)
        return failure();
      d.dimMax.push_back({decodeName(f[1]), max});
    } else if (d.version >= 2 && f.size() == 6 && f[0] == "cache") {
      CacheDesc c;
      c.input = decodeName(f[1]);
      c.present = decodeName(f[2]);
      if (f[3].getAsInteger(10, c.axis) || c.axis < 0)
        return failure();
      c.totalDim = decodeName(f[4]);
      c.newDim = decodeName(f[5]);
      d.caches.push_back(std::move(c));
    } else if (f.size() == 4 && (f[0] == "input" || f[0] == "output")) {
      TensorDesc t;
      t.name = decodeName(f[1]);
      if (f[2].getAsInteger(10, t.dtype) ||
          failed(parseShape(f[3], d.version, t)))
        return failure();
      (f[0] == "input" ? d.inputs : d.outputs).push_back(std::move(t));
    } else {
      return failure();
    }
  }
  return success();
}

} // namespace mlir::qopt::abi
