//===- RecordABI.cpp - record the model's I/O signature -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Writes the `qopt.abi` module attribute (format: docs/abi.md) from the
// entry function's tensor signature, its `qopt.name` / `qopt.dtype` /
// `qopt.dim_names` attrs and the module's `qopt.dim_max` bounds: version 1
// text for a static entry (as before dynamic shapes), version 2 when some
// dim is dynamic.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "ABIText.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"

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
    abi::Desc desc;
    for (auto [i, t] : llvm::enumerate(entry.getArgumentTypes()))
      if (failed(describe(entry, "input", i, t, entry.getArgAttrDict(i),
                          desc.inputs.emplace_back())))
        return signalPassFailure();
    for (auto [i, t] : llvm::enumerate(entry.getResultTypes()))
      if (failed(describe(entry, "output", i, t, entry.getResultAttrDict(i),
                          desc.outputs.emplace_back())))
        return signalPassFailure();
    auto isStatic = [](const abi::TensorDesc &t) { return t.isStatic(); };
    desc.dynamic = !llvm::all_of(desc.inputs, isStatic) ||
                   !llvm::all_of(desc.outputs, isStatic);
    if (failed(collectDims(module, desc)))
      return signalPassFailure();
    for (unsigned i = 0; i < entry.getNumArguments(); ++i)
      if (auto kv = entry.getArgAttrOfType<DictionaryAttr>(i, "qopt.kv_cache")) {
        abi::CacheDesc &c = desc.caches.emplace_back();
        c.input = desc.inputs[i].name;
        auto str = [&](StringRef k) {
          auto s = kv.getAs<StringAttr>(k);
          return s ? s.getValue().str() : std::string();
        };
        c.present = str("present");
        c.totalDim = str("total");
        c.newDim = str("new");
        auto axis = kv.getAs<IntegerAttr>("axis");
        c.axis = axis ? axis.getInt() : -1;
        if (c.present.empty() || c.totalDim.empty() || c.newDim.empty() ||
            c.axis < 0 || c.axis >= (int64_t)desc.inputs[i].dims.size()) {
          entry.emitError("qopt-record-abi: input '")
              << c.input << "': qopt.kv_cache needs present, axis, total "
                            "and new";
          return signalPassFailure();
        }
      }
    Builder b(module.getContext());
    module->setAttr(kABIAttrName, b.getStringAttr(abi::print(desc)));
    module->setAttr(kEntryFuncAttrName, b.getStringAttr(entry.getSymName()));
  }

  /// One input/output: name, dtype, dims (-1 dynamic) and their names.
  static LogicalResult describe(func::FuncOp entry, StringRef kind,
                                unsigned idx, Type type, DictionaryAttr attrs,
                                abi::TensorDesc &t) {
    auto shaped = dyn_cast<RankedTensorType>(type);
    if (!shaped)
      return entry.emitError() << "qopt-record-abi: " << kind << " #" << idx
                               << " has type " << type
                               << "; only ranked tensors are supported";
    t.name = (kind + Twine(idx)).str();
    if (attrs)
      if (auto n = attrs.getAs<StringAttr>("qopt.name"))
        t.name = n.getValue().str();
    t.dtype = defaultDType(shaped.getElementType());
    if (attrs)
      if (auto d = attrs.getAs<IntegerAttr>("qopt.dtype"))
        t.dtype = d.getInt();
    int eltBytes = abi::dtypeBytes(t.dtype);
    if (eltBytes == 0)
      return entry.emitError() << "qopt-record-abi: " << kind << " '" << t.name
                               << "' has unsupported element type "
                               << shaped.getElementType() << " (dtype "
                               << t.dtype << ")";
    unsigned bits = shaped.getElementType().isIntOrFloat()
                        ? shaped.getElementType().getIntOrFloatBitWidth()
                        : 0;
    unsigned storage = bits == 1 ? 1 : bits / 8;
    if (storage != (unsigned)eltBytes)
      return entry.emitError()
             << "qopt-record-abi: " << kind << " '" << t.name << "': dtype "
             << t.dtype << " does not match element type "
             << shaped.getElementType();
    ArrayAttr names = attrs ? attrs.getAs<ArrayAttr>("qopt.dim_names") : nullptr;
    if (names && names.size() != (size_t)shaped.getRank())
      return entry.emitError() << "qopt-record-abi: " << kind << " '" << t.name
                               << "': qopt.dim_names has " << names.size()
                               << " entries for rank " << shaped.getRank();
    // Larger than the x86-64 user address space (2^47 bytes): no process
    // can hold it, and the element count may not even fit in 64 bits.
    // Dynamic dims are checked at run time.
    uint64_t bytes = eltBytes;
    for (auto [i, d] : llvm::enumerate(shaped.getShape())) {
      std::string dimName;
      if (names) {
        auto s = dyn_cast<StringAttr>(names[i]);
        if (!s)
          return entry.emitError() << "qopt-record-abi: " << kind << " '"
                                   << t.name
                                   << "': qopt.dim_names must hold strings";
        dimName = s.getValue().str();
      }
      if (ShapedType::isDynamic(d)) {
        t.dims.push_back(-1);
        t.dimNames.push_back(dimName);
        continue;
      }
      t.dims.push_back(d);
      t.dimNames.emplace_back();
      if (d != 0 && bytes > (uint64_t(1) << 47) / (uint64_t)d)
        return entry.emitError()
               << "qopt-record-abi: " << kind << " '" << t.name
               << "' of type " << type << " is too large (more than 2^47 bytes)";
      bytes *= (uint64_t)d;
    }
    return success();
  }

  /// The named dynamic dims, in order of first appearance, with their bound
  /// from the module's `qopt.dim_max` (0: unbounded).
  static LogicalResult collectDims(ModuleOp module, abi::Desc &desc) {
    auto maxes = module->getAttrOfType<DictionaryAttr>("qopt.dim_max");
    if (module->hasAttr("qopt.dim_max") && !maxes)
      return module.emitError("qopt-record-abi: qopt.dim_max must be a "
                              "dictionary of dim name -> i64");
    llvm::StringSet<> seen;
    for (auto *list : {&desc.inputs, &desc.outputs})
      for (abi::TensorDesc &t : *list)
        for (StringRef n : t.dimNames) {
          if (n.empty() || !seen.insert(n).second)
            continue;
          int64_t max = 0;
          if (Attribute a = maxes ? maxes.get(n) : Attribute()) {
            auto i = dyn_cast<IntegerAttr>(a);
            if (!i || i.getInt() <= 0)
              return module.emitError("qopt-record-abi: qopt.dim_max of '")
                     << n << "' must be a positive integer, got " << a;
            max = i.getInt();
          }
          desc.dimMax.push_back({n.str(), max});
        }
    return success();
  }

  /// A value returned twice (e.g. two graph outputs that folding or CSE
  /// made one tensor) would give buffer-results-to-out-params one buffer for
  /// two out-params (or a dynamic entry one allocation for two results the
  /// caller frees); copy every repeat into a tensor of its own.
  static void distinctResults(func::FuncOp entry) {
    entry.walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 8> seen;
      OpBuilder b(ret);
      for (OpOperand &o : ret->getOpOperands()) {
        auto tt = dyn_cast<RankedTensorType>(o.get().getType());
        if (!tt || seen.insert(o.get()).second)
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
