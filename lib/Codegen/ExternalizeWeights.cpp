//===- ExternalizeWeights.cpp - move big constants to a sidecar blob -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// After bufferization, constant memref.globals larger than a threshold are
// removed; every memref.get_global of them becomes a memref.view into a new
// last argument `memref<TOTALxi8>` of the entry function (64-byte aligned
// offsets). The bytes go to an in-memory blob or a file written atomically.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTEXTERNALIZEWEIGHTSPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
constexpr int64_t kAlign = 64;

/// Storage bytes per element (i1: one byte), 0 when unsupported.
int64_t storageBytes(Type t) {
  if (isa<IndexType>(t))
    return 8;
  if (!t.isIntOrFloat())
    return 0;
  unsigned bw = t.getIntOrFloatBitWidth();
  if (bw == 1)
    return 1;
  return bw % 8 ? 0 : bw / 8;
}

/// Writes the raw little-endian bytes of `attr` to `os`.
LogicalResult writeBytes(Operation *op, ElementsAttr attr,
                         llvm::raw_ostream &os) {
  Type elt = attr.getElementType();
  int64_t es = storageBytes(elt);
  int64_t n = attr.getNumElements();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (elt.isInteger(1)) {
      for (bool v : dense.getValues<bool>())
        os << (char)(v ? 1 : 0);
      return success();
    }
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat()) {
      if ((int64_t)raw.size() < es)
        return op->emitError("qopt-externalize-weights: bad splat data");
      for (int64_t i = 0; i < n; ++i)
        os.write(raw.data(), es);
      return success();
    }
    if ((int64_t)raw.size() != n * es)
      return op->emitError("qopt-externalize-weights: unexpected raw "
                           "data size ")
             << raw.size();
    os.write(raw.data(), raw.size());
    return success();
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *rb = res.getRawHandle().getBlob();
    if (!rb)
      return op->emitError("qopt-externalize-weights: resource '")
             << res.getRawHandle().getKey() << "' has no data";
    ArrayRef<char> raw = rb->getData();
    if ((int64_t)raw.size() != n * es)
      return op->emitError("qopt-externalize-weights: resource '")
             << res.getRawHandle().getKey() << "' holds " << raw.size()
             << " bytes, expected " << n * es;
    os.write(raw.data(), raw.size());
    return success();
  }
  return op->emitError("qopt-externalize-weights: unsupported initial value");
}

void writeZeros(llvm::raw_ostream &os, int64_t n) {
  static const char zeros[kAlign] = {};
  for (; n > 0; n -= kAlign)
    os.write(zeros, std::min<int64_t>(n, kAlign));
}

/// A raw_ostream appending to a std::vector (the JIT's in-memory blob).
class VectorOStream : public llvm::raw_ostream {
public:
  explicit VectorOStream(std::vector<char> &v) : v(v) { SetUnbuffered(); }

private:
  void write_impl(const char *p, size_t n) override {
    v.insert(v.end(), p, p + n);
  }
  uint64_t current_pos() const override { return v.size(); }
  std::vector<char> &v;
};
} // namespace

// The layout is computed first and the bytes are streamed straight from the
// constants to the output, so a multi-GB model is never copied into one
// buffer (issue 6: weights streamed, not copied several times).
LogicalResult externalizeWeights(ModuleOp module, int64_t threshold,
                                 llvm::raw_ostream &os, int64_t &written) {
  MLIRContext *ctx = module.getContext();
  written = 0;
  // 1. Pick the globals and lay them out.
  llvm::DenseMap<StringAttr, int64_t> offsets;
  SmallVector<std::pair<memref::GlobalOp, int64_t>> chosen; // (global, bytes)
  int64_t total = 0;
  for (auto g : module.getOps<memref::GlobalOp>()) {
    if (!g.getConstant() || !g.getInitialValue())
      continue;
    auto init = dyn_cast<ElementsAttr>(*g.getInitialValue());
    MemRefType ty = g.getType();
    int64_t es = storageBytes(ty.getElementType());
    if (!init || es == 0 || !ty.hasStaticShape() ||
        !ty.getLayout().isIdentity())
      continue;
    int64_t bytes = ty.getNumElements() * es;
    if (bytes <= threshold)
      continue;
    total += (kAlign - total % kAlign) % kAlign;
    offsets[g.getSymNameAttr()] = total;
    chosen.push_back({g, bytes});
    total += bytes;
  }
  std::string abi;
  if (auto a = module->getAttrOfType<StringAttr>(kABIAttrName))
    abi = a.getValue().str();
  if (chosen.empty()) {
    if (!abi.empty())
      module->setAttr(kABIAttrName,
                      StringAttr::get(ctx, setABIWeightsBytes(abi, 0)));
    return success();
  }
  // Keep the blob size a multiple of the alignment (tidy files).
  total += (kAlign - total % kAlign) % kAlign;

  // 2. Find the functions that use them.
  auto blobTy = MemRefType::get({total}, IntegerType::get(ctx, 8));
  StringRef entryName;
  if (auto e = module->getAttrOfType<StringAttr>(kEntryFuncAttrName))
    entryName = e.getValue();
  llvm::SetVector<func::FuncOp> users;
  SmallVector<memref::GetGlobalOp> uses;
  WalkResult wr = module.walk([&](memref::GetGlobalOp op) {
    if (!offsets.count(op.getNameAttr().getAttr()))
      return WalkResult::advance();
    auto fn = op->getParentOfType<func::FuncOp>();
    if (!fn || (!entryName.empty() && fn.getSymName() != entryName) ||
        (entryName.empty() && !fn.isPublic())) {
      op.emitError("qopt-externalize-weights: constant used outside the "
                   "entry function");
      return WalkResult::interrupt();
    }
    users.insert(fn);
    uses.push_back(op);
    return WalkResult::advance();
  });
  if (wr.wasInterrupted())
    return failure();
  if (users.size() > 1)
    return module.emitError("qopt-externalize-weights: constants used by "
                            "several public functions");

  // 3. Stream the bytes.
  for (auto [g, bytes] : chosen) {
    writeZeros(os, offsets[g.getSymNameAttr()] - written);
    written = offsets[g.getSymNameAttr()];
    if (failed(writeBytes(g, cast<ElementsAttr>(*g.getInitialValue()), os)))
      return failure();
    written += bytes;
  }
  writeZeros(os, total - written);
  written = total;

  // 4. Rewrite get_global -> view of the new last argument.
  for (func::FuncOp fn : users) {
    unsigned idx = fn.getNumArguments();
    NamedAttribute nameAttr(StringAttr::get(ctx, "qopt.name"),
                            StringAttr::get(ctx, "__weights__"));
    if (failed(fn.insertArgument(idx, blobTy,
                                 DictionaryAttr::get(ctx, {nameAttr}),
                                 fn.getLoc())))
      return fn.emitError("qopt-externalize-weights: cannot add argument");
    Value arg = fn.getArgument(idx);
    for (memref::GetGlobalOp op : uses) {
      if (op->getParentOfType<func::FuncOp>() != fn)
        continue;
      OpBuilder b(op);
      Value off = arith::ConstantIndexOp::create(
          b, op.getLoc(), offsets[op.getNameAttr().getAttr()]);
      Value view = memref::ViewOp::create(b, op.getLoc(), op.getType(), arg,
                                          off, ValueRange{});
      op.replaceAllUsesWith(view);
      op.erase();
    }
  }
  for (auto &c : chosen)
    c.first.erase();
  if (!abi.empty())
    module->setAttr(kABIAttrName,
                    StringAttr::get(ctx, setABIWeightsBytes(abi, total)));
  return success();
}

LogicalResult externalizeWeights(ModuleOp module, int64_t threshold,
                                 std::vector<char> &blob) {
  VectorOStream os(blob);
  int64_t written = 0;
  return externalizeWeights(module, threshold, os, written);
}

namespace {
struct QOptExternalizeWeightsPass
    : impl::QOptExternalizeWeightsPassBase<QOptExternalizeWeightsPass> {
  using Base::Base;
  std::vector<char> *sink = nullptr;

  void runOnOperation() override {
    if (sink) {
      sink->clear();
      if (failed(externalizeWeights(getOperation(), threshold, *sink)))
        signalPassFailure();
      return;
    }
    if (weightsFile.empty()) {
      llvm::raw_null_ostream os;
      int64_t written = 0;
      if (failed(externalizeWeights(getOperation(), threshold, os, written)))
        signalPassFailure();
      return;
    }
    // Written to a temporary file renamed into place on success.
    bool failedInside = false;
    llvm::Error e = llvm::writeToOutput(
        weightsFile, [&](llvm::raw_ostream &os) -> llvm::Error {
          int64_t written = 0;
          if (failed(externalizeWeights(getOperation(), threshold, os,
                                        written))) {
            failedInside = true;
            return llvm::createStringError("externalization failed");
          }
          return llvm::Error::success();
        });
    if (failedInside) {
      llvm::consumeError(std::move(e));
      return signalPassFailure();
    }
    if (e) {
      getOperation().emitError("qopt-externalize-weights: cannot write '")
          << weightsFile << "': " << llvm::toString(std::move(e));
      return signalPassFailure();
    }
  }
};
} // namespace

std::unique_ptr<Pass> createQOptExternalizeWeightsPass(int64_t threshold,
                                                       std::vector<char> *sink) {
  QOptExternalizeWeightsPassOptions opts;
  opts.threshold = threshold;
  auto pass = std::make_unique<QOptExternalizeWeightsPass>(opts);
  pass->sink = sink;
  return pass;
}

} // namespace mlir::qopt
