//===- EmitEntryDynamic.cpp - qopt_entry_dyn wrapper ----------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// For an entry with dynamic dims (docs/abi.md, "Dynamic entry"): the model
// function takes unpacked memref descriptors (allocated ptr, aligned ptr,
// i64 offset, rank x i64 sizes, rank x i64 strides) per input and for the
// weights blob, and returns the descriptors of its results (a struct of
// them when there are several). The wrapper builds dense row-major input
// descriptors from the data pointers and the concatenated dims, and writes
// each result's allocation, data pointer (aligned + offset) and dims.
//
//===----------------------------------------------------------------------===//
#include "EmitEntry.h"

namespace mlir::qopt {
namespace {
struct Wrapper {
  OpBuilder &b;
  Location loc;
  Type ptrTy, i64;

  Value cst(int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
  }
  Value gep(Value base, Type elt, Value idx) {
    return LLVM::GEPOp::create(b, loc, ptrTy, elt, base,
                               ArrayRef<LLVM::GEPArg>{idx});
  }
  Value load(Type t, Value base, int64_t idx) {
    return LLVM::LoadOp::create(b, loc, t, gep(base, t, cst(idx)));
  }
  void store(Value v, Value base, int64_t idx) {
    LLVM::StoreOp::create(b, loc, v, gep(base, v.getType(), cst(idx)));
  }
  /// (ptr, ptr, 0, sizes, row-major strides) appended to `args`.
  void descriptor(Value ptr, ArrayRef<Value> sizes,
                  SmallVectorImpl<Value> &args) {
    args.append({ptr, ptr, cst(0)});
    args.append(sizes.begin(), sizes.end());
    SmallVector<Value> strides(sizes.size());
    for (int d = (int)sizes.size() - 1; d >= 0; --d)
      strides[d] = d + 1 == (int)sizes.size()
                       ? cst(1)
                       : LLVM::MulOp::create(b, loc, strides[d + 1],
                                             sizes[d + 1]).getResult();
    args.append(strides.begin(), strides.end());
  }
};

unsigned descriptorParams(unsigned rank) { return 3 + 2 * rank; }

/// Whether `params[p...]` is an unpacked descriptor of rank `rank`.
bool isDescriptor(ArrayRef<Type> params, unsigned p, unsigned rank,
                  Type ptrTy, Type i64) {
  if (p + descriptorParams(rank) > params.size() || params[p] != ptrTy ||
      params[p + 1] != ptrTy)
    return false;
  for (unsigned k = 2; k < descriptorParams(rank); ++k)
    if (params[p + k] != i64)
      return false;
  return true;
}

/// Whether `t` is the descriptor struct of a rank-`rank` memref.
bool isDescriptorStruct(Type t, unsigned rank, Type ptrTy, Type i64) {
  auto s = dyn_cast<LLVM::LLVMStructType>(t);
  if (!s)
    return false;
  ArrayRef<Type> body = s.getBody();
  auto arr = LLVM::LLVMArrayType::get(i64, rank);
  if (rank == 0)
    return body.size() == 3 && body[0] == ptrTy && body[1] == ptrTy &&
           body[2] == i64;
  return body.size() == 5 && body[0] == ptrTy && body[1] == ptrTy &&
         body[2] == i64 && body[3] == arr && body[4] == arr;
}
} // namespace

LogicalResult emitDynamicEntry(ModuleOp module, LLVM::LLVMFuncOp fn,
                               const abi::Desc &desc) {
  MLIRContext *ctx = module.getContext();
  Type ptrTy = LLVM::LLVMPointerType::get(ctx);
  Type i64 = IntegerType::get(ctx, 64);
  LLVM::LLVMFunctionType fnTy = fn.getFunctionType();
  ArrayRef<Type> params = fnTy.getParams();

  // Check the signature against the ABI: input descriptors, then the
  // weights blob's (memref<Nxi8>) unless the model has no weights argument.
  unsigned p = 0;
  bool ok = true;
  for (const abi::TensorDesc &t : desc.inputs) {
    ok &= isDescriptor(params, p, t.dims.size(), ptrTy, i64);
    p += descriptorParams(t.dims.size());
  }
  bool weightsArg = ok && params.size() == p + descriptorParams(1) &&
                    isDescriptor(params, p, 1, ptrTy, i64);
  ok &= params.size() == p || weightsArg;
  size_t nout = desc.outputs.size();
  Type ret = fnTy.getReturnType();
  if (nout == 0) {
    ok &= isa<LLVM::LLVMVoidType>(ret);
  } else if (nout == 1) {
    ok &= isDescriptorStruct(ret, desc.outputs[0].dims.size(), ptrTy, i64);
  } else {
    auto s = dyn_cast<LLVM::LLVMStructType>(ret);
    ok &= s && s.getBody().size() == nout;
    for (size_t k = 0; ok && k < nout; ++k)
      ok &= isDescriptorStruct(s.getBody()[k], desc.outputs[k].dims.size(),
                               ptrTy, i64);
  }
  if (!ok)
    return fn.emitError("qopt-emit-entry: the dynamic-shape model function "
                        "has type ")
           << fnTy << "; expected the unpacked memref descriptors of the "
           << desc.inputs.size() << " inputs (+ weights) returning the "
           << nout << " result descriptors (convert-func-to-llvm without "
              "bare pointers)";

  Location loc = fn.getLoc();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto voidTy = LLVM::LLVMVoidType::get(ctx);
  auto dynTy = LLVM::LLVMFunctionType::get(
      voidTy, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy});
  auto dyn = LLVM::LLVMFuncOp::create(b, loc, "qopt_entry_dyn", dynTy);
  Block *blk = dyn.addEntryBlock(b);
  b.setInsertionPointToStart(blk);
  Wrapper w{b, loc, ptrTy, i64};
  Value inData = blk->getArgument(0), inDims = blk->getArgument(1),
        outAlloc = blk->getArgument(2), outData = blk->getArgument(3),
        outDims = blk->getArgument(4), weights = blk->getArgument(5);

  SmallVector<Value> args;
  int64_t dimPos = 0;
  for (auto [i, t] : llvm::enumerate(desc.inputs)) {
    Value ptr = w.load(ptrTy, inData, i);
    // Static dims are constants (the runtime checked them).
    SmallVector<Value> sizes;
    for (int64_t d : t.dims) {
      sizes.push_back(d >= 0 ? w.cst(d) : w.load(i64, inDims, dimPos));
      ++dimPos;
    }
    w.descriptor(ptr, sizes, args);
  }
  if (weightsArg)
    w.descriptor(weights, {w.cst((int64_t)desc.weightBytes)}, args);
  auto call = LLVM::CallOp::create(b, loc, fn, args);

  dimPos = 0;
  for (auto [k, t] : llvm::enumerate(desc.outputs)) {
    Value d = nout == 1 ? call.getResult()
                        : LLVM::ExtractValueOp::create(b, loc, call.getResult(),
                                                       ArrayRef<int64_t>{(int64_t)k})
                              .getResult();
    auto field = [&](ArrayRef<int64_t> pos) -> Value {
      return LLVM::ExtractValueOp::create(b, loc, d, pos);
    };
    Value alloc = field({0}), aligned = field({1}), offset = field({2});
    Value bytes = LLVM::MulOp::create(b, loc, offset,
                                      w.cst(abi::dtypeBytes(t.dtype)));
    Value data = w.gep(aligned, b.getI8Type(), bytes);
    w.store(alloc, outAlloc, k);
    w.store(data, outData, k);
    for (size_t r = 0; r < t.dims.size(); ++r)
      w.store(field({3, (int64_t)r}), outDims, dimPos++);
  }
  LLVM::ReturnOp::create(b, loc, ValueRange{});

  // `void qopt_entry(void **args)`: the six pointers above, in order.
  b.setInsertionPointToEnd(module.getBody());
  auto wrapTy = LLVM::LLVMFunctionType::get(voidTy, {ptrTy});
  auto wrap = LLVM::LLVMFuncOp::create(b, loc, "qopt_entry", wrapTy);
  Block *wblk = wrap.addEntryBlock(b);
  b.setInsertionPointToStart(wblk);
  SmallVector<Value> slots;
  for (int64_t i = 0; i < 6; ++i)
    slots.push_back(w.load(ptrTy, wblk->getArgument(0), i));
  LLVM::CallOp::create(b, loc, dyn, slots);
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  return success();
}
} // namespace mlir::qopt
