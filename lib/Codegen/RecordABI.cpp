//===- RecordABI.cpp - record the model's I/O signature -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Writes the `qopt.abi` module attribute (format: docs/abi.md) from the
// entry function's tensor signature and `qopt.name` / `qopt.dtype` attrs.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTRECORDABIPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {

/// ONNX TensorProto data type number for a signless MLIR element type.
static int defaultDType(Type t) {
  if (t.isF32()) return 1;
  if (t.isF64()) return 11;
  if (t.isF16()) return 10;
  if (t.isBF16()) return 16;
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 1: return 9;
    case 8: return u ? 2 : 3;
    case 16: return u ? 4 : 5;
    case 32: return u ? 12 : 6;
    case 64: return u ? 13 : 7;
    }
  }
  return 0;
}

/// Byte width the runtime uses for an ONNX dtype (0: unsupported).
static int dtypeBytes(int dt) {
  switch (dt) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  }
  return 0;
}

static std::string percentEncode(StringRef s) {
  std::string out;
  for (unsigned char c : s) {
    if (llvm::isAlnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(llvm::hexdigit(c >> 4, /*LowerCase=*/false));
      out.push_back(llvm::hexdigit(c & 15, /*LowerCase=*/false));
    }
  }
  if (out.empty())
    out = "%";  // never happens: names default to input<i>/output<i>
  return out;
}

struct QOptRecordABIPass : impl::QOptRecordABIPassBase<QOptRecordABIPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = findEntry(module);
    if (!entry) {
      module.emitError("qopt-record-abi: no entry function (expected "
                       "func.func @main or a single public function)");
      return signalPassFailure();
    }
    distinctResults(entry);
    std::string abi;
    llvm::raw_string_ostream os(abi);
    os << "qopt-abi 1\n";
    auto emitOne = [&](StringRef kind, unsigned idx, Type type,
                       DictionaryAttr attrs) -> LogicalResult {
      auto shaped = dyn_cast<ShapedType>(type);
      if (!shaped || !shaped.hasStaticShape())
        return entry.emitError() << "qopt-record-abi: " << kind << " #" << idx
                                 << " has type " << type
                                 << "; only static-shaped tensors are supported "
                                    "(pin dynamic dims with --input-shape)";
      std::string name = (kind + Twine(idx)).str();
      if (attrs)
        if (auto n = attrs.getAs<StringAttr>("qopt.name"))
          name = n.getValue().str();
      int dt = defaultDType(shaped.getElementType());
      if (attrs)
        if (auto d = attrs.getAs<IntegerAttr>("qopt.dtype"))
          dt = d.getInt();
      if (dtypeBytes(dt) == 0)
        return entry.emitError() << "qopt-record-abi: " << kind << " '" << name
                                 << "' has unsupported element type "
                                 << shaped.getElementType() << " (dtype " << dt
                                 << ")";
      unsigned bits = shaped.getElementType().isIntOrFloat()
                          ? shaped.getElementType().getIntOrFloatBitWidth()
                          : 0;
      unsigned storage = bits == 1 ? 1 : bits / 8;
      if (storage != (unsigned)dtypeBytes(dt))
        return entry.emitError()
               << "qopt-record-abi: " << kind << " '" << name << "': dtype "
               << dt << " does not match element type "
               << shaped.getElementType();
      // Larger than the x86-64 user address space (2^47 bytes): no process
      // can hold it, and the element count may not even fit in 64 bits.
      uint64_t bytes = dtypeBytes(dt);
      for (int64_t d : shaped.getShape())
        if (d != 0 && bytes > (uint64_t(1) << 47) / (uint64_t)d)
          return entry.emitError()
                 << "qopt-record-abi: " << kind << " '" << name << "' of type "
                 << type << " is too large (more than 2^47 bytes)";
        else
          bytes *= (uint64_t)d;
      os << kind << " " << percentEncode(name) << " " << dt << " ";
      if (shaped.getRank() == 0)
        os << "scalar";
      else
        llvm::interleave(shaped.getShape(), os, "x");
      os << "\n";
      return success();
    };
    for (auto [i, t] : llvm::enumerate(entry.getArgumentTypes()))
      if (failed(emitOne("input", i, t, entry.getArgAttrDict(i))))
        return signalPassFailure();
    for (auto [i, t] : llvm::enumerate(entry.getResultTypes()))
      if (failed(emitOne("output", i, t, entry.getResultAttrDict(i))))
        return signalPassFailure();
    os << "weights 0\n";
    Builder b(module.getContext());
    module->setAttr(kABIAttrName, b.getStringAttr(abi));
    module->setAttr(kEntryFuncAttrName, b.getStringAttr(entry.getSymName()));
  }

  /// A value returned twice (e.g. two graph outputs that folding or CSE
  /// made one tensor) would give buffer-results-to-out-params one buffer for
  /// two out-params; copy every repeat into a tensor of its own.
  static void distinctResults(func::FuncOp entry) {
    entry.walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 8> seen;
      OpBuilder b(ret);
      for (OpOperand &o : ret->getOpOperands()) {
        auto tt = dyn_cast<RankedTensorType>(o.get().getType());
        if (!tt || !tt.hasStaticShape() || seen.insert(o.get()).second)
          continue;
        o.set(bufferization::AllocTensorOp::create(b, ret.getLoc(), tt,
                                                   ValueRange{}, o.get()));
      }
    });
  }

  static func::FuncOp findEntry(ModuleOp module) {
    if (auto m = module.lookupSymbol<func::FuncOp>("main"))
      if (!m.isExternal())
        return m;
    func::FuncOp found;
    for (auto f : module.getOps<func::FuncOp>()) {
      if (f.isExternal() || !f.isPublic())
        continue;
      if (found)
        return nullptr;
      found = f;
    }
    return found;
  }
};
} // namespace

std::string setABIWeightsBytes(StringRef abi, uint64_t bytes) {
  SmallVector<StringRef> lines;
  abi.split(lines, '\n', -1, /*KeepEmpty=*/false);
  std::string out;
  for (StringRef l : lines)
    if (!l.starts_with("weights "))
      out += (l + "\n").str();
  out += "weights " + std::to_string(bytes) + "\n";
  return out;
}

} // namespace mlir::qopt
