//===- BindInputs.cpp - specialize a model for constant inputs ------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "qopt/Dialect/QONNX/QONNXDialect.h"
#include "qopt/Target/ONNX/ImportONNX.h"

using namespace mlir;

/// The qonnx element type of an ONNX dtype (null if unsupported).
static Type qonnxElementType(MLIRContext *ctx, int32_t dtype) {
  switch (dtype) {
  case 1: return Float32Type::get(ctx);
  case 11: return Float64Type::get(ctx);
  case 10: return Float16Type::get(ctx);
  case 16: return BFloat16Type::get(ctx);
  case 9: return IntegerType::get(ctx, 1);
  case 3: return IntegerType::get(ctx, 8);
  case 5: return IntegerType::get(ctx, 16);
  case 6: return IntegerType::get(ctx, 32);
  case 7: return IntegerType::get(ctx, 64);
  case 2: return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case 4: return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case 12: return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case 13: return IntegerType::get(ctx, 64, IntegerType::Unsigned);
  default: return {};
  }
}

LogicalResult mlir::qopt::bindInputAsConstant(ModuleOp module, StringRef name,
                                              int32_t dtype,
                                              ArrayRef<int64_t> shape,
                                              ArrayRef<char> data) {
  auto fn = module.lookupSymbol<func::FuncOp>("main");
  if (!fn || fn.isExternal())
    return emitError(module.getLoc()) << "no @main function to bind '" << name
                                      << "' in";
  MLIRContext *ctx = module.getContext();
  for (BlockArgument arg : fn.getArguments()) {
    auto argName = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "qopt.name");
    if (!argName || argName.getValue() != name)
      continue;
    Type et = qonnxElementType(ctx, dtype);
    auto declared = dyn_cast<TensorType>(arg.getType());
    if (!et || !declared || declared.getElementType() != et)
      return emitError(fn.getLoc()) << "constant for input '" << name
                                    << "' has ONNX dtype " << dtype
                                    << " but the input is " << arg.getType();
    auto ty = RankedTensorType::get(shape, et);
    if (auto rt = dyn_cast<RankedTensorType>(declared)) {
      bool ok = rt.getRank() == ty.getRank();
      for (int64_t k = 0; ok && k < rt.getRank(); ++k)
        ok = rt.isDynamicDim(k) || rt.getDimSize(k) == shape[k];
      if (!ok)
        return emitError(fn.getLoc()) << "constant for input '" << name
                                      << "' has shape " << ty
                                      << " but the input is " << declared;
    }
    size_t elemBytes = et.isInteger(1) ? 1 : et.getIntOrFloatBitWidth() / 8;
    if (data.size() != (size_t)ty.getNumElements() * elemBytes)
      return emitError(fn.getLoc()) << "constant for input '" << name
                                    << "' has " << data.size()
                                    << " bytes, expected "
                                    << ty.getNumElements() * elemBytes;
    DenseElementsAttr value;
    if (et.isInteger(1)) {
      SmallVector<bool> bits;
      for (char c : data)
        bits.push_back(c != 0);
      value = DenseElementsAttr::get(ty, ArrayRef<bool>(bits));
    } else {
      value = DenseElementsAttr::getFromRawBuffer(ty, data);
    }
    OpBuilder b = OpBuilder::atBlockBegin(&fn.front());
    NamedAttrList attrs;
    attrs.append("value", value);
    auto node = qonnx::NodeOp::create(
        b, NameLoc::get(b.getStringAttr(name)), TypeRange{ty},
        b.getStringAttr("Constant"), b.getStringAttr(""),
        b.getI64IntegerAttr(13), b.getStringAttr(name),
        attrs.getDictionary(ctx), ValueRange{});
    arg.replaceAllUsesWith(node.getResult(0));
    if (failed(fn.eraseArgument(arg.getArgNumber())))
      return failure();
    return success();
  }
  return emitError(fn.getLoc()) << "--const-input names unknown input '"
                                << name << "'";
}
