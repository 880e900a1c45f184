//===- ConvertONNXToQOpt.cpp - the convert-onnx-to-qopt pass --------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "Converter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "qopt/Conversion/Passes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTONNXTOQOPTPASS
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

/// Parses "a:1x128,b:4x3" into name -> dims.
static LogicalResult parseInputShapes(StringRef spec, Location loc,
                                      llvm::StringMap<SmallVector<int64_t>> &out) {
  SmallVector<StringRef> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    auto [name, dims] = item.rsplit(':');
    if (name.empty() || dims.empty() || !item.contains(':'))
      return emitError(loc) << "bad --input-shape '" << item
                            << "': expected NAME:D0xD1x...";
    SmallVector<int64_t> shape;
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef p : parts) {
      int64_t d;
      if (p.trim().getAsInteger(10, d) || d < 0 || d > (int64_t(1) << 40))
        return emitError(loc) << "bad dimension '" << p << "' in --input-shape '"
                              << item << "'";
      shape.push_back(d);
    }
    if (dims == "scalar")
      shape.clear();
    out[name] = shape;
  }
  return success();
}

/// More than 2^47 bytes (the x86-64 user address space): no process can
/// hold the tensor, and its element count may not even fit in 64 bits.
static bool tooLarge(Type t) {
  auto st = dyn_cast<ShapedType>(t);
  if (!st || !st.hasRank() || llvm::is_contained(st.getShape(), 0))
    return false;
  Type e = st.getElementType();
  uint64_t bytes =
      e.isIntOrFloat() ? std::max(1u, e.getIntOrFloatBitWidth() / 8) : 1;
  for (int64_t d : st.getShape()) {
    if (ShapedType::isDynamic(d))
      continue;
    if (bytes > (uint64_t(1) << 47) / (uint64_t)d)
      return true;
    bytes *= (uint64_t)d;
  }
  return false;
}

/// The Constant node (and initializers, which the importer emits as
/// Constant nodes): re-typed to signless storage, data shared, not copied.
static LogicalResult convertConstant(Converter &cv, const Node &node,
                                     SmallVectorImpl<TValue> &results) {
  if (Attribute v = node.attr("value")) {
    auto elems = dyn_cast<ElementsAttr>(v);
    if (!elems)
      return cv.error(node) << "unsupported 'value' attribute";
    auto ty = cast<ShapedType>(elems.getType());
    DType dt = dtypeOf(ty.getElementType());
    if (dt == DType::Undefined)
      return cv.error(node) << "unsupported constant element type "
                            << ty.getElementType();
    auto rty = cv.tensorType(ty.getShape(), dt);
    TypedAttr attr;
    if (auto dense = dyn_cast<DenseElementsAttr>(v))
      attr = dense.getElementType() == rty.getElementType()
                 ? dense
                 : dense.bitcast(rty.getElementType()).reshape(rty);
    else if (auto res = dyn_cast<DenseResourceElementsAttr>(v))
      attr = DenseResourceElementsAttr::get(rty, res.getRawHandle());
    else
      return cv.error(node) << "unsupported constant encoding";
    results.push_back({arith::ConstantOp::create(cv.b, cv.loc, rty, attr), dt});
    return success();
  }
  if (node.hasAttr("value_float")) {
    ConstTensor c(DType::F32, {});
    c.set(0, node.f("value_float", 0));
    results.push_back(cv.constant(c));
    return success();
  }
  if (node.hasAttr("value_floats")) {
    auto fs = node.floats("value_floats");
    ConstTensor c(DType::F32, {(int64_t)fs.size()});
    for (size_t k = 0; k < fs.size(); ++k)
      c.set(k, fs[k]);
    results.push_back(cv.constant(c));
    return success();
  }
  if (node.hasAttr("value_int")) {
    ConstTensor c(DType::I64, {});
    c.setI(0, node.i("value_int", 0));
    results.push_back(cv.constant(c));
    return success();
  }
  if (node.hasAttr("value_ints")) {
    auto is = node.ints("value_ints");
    ConstTensor c(DType::I64, {(int64_t)is.size()});
    for (size_t k = 0; k < is.size(); ++k)
      c.setI(k, is[k]);
    results.push_back(cv.constant(c));
    return success();
  }
  return cv.error(node) << "unsupported Constant attribute (sparse or string)";
}

struct ConvertONNXToQOptPass
    : qopt::impl::ConvertONNXToQOptPassBase<ConvertONNXToQOptPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal())
        funcs.push_back(f);
    for (func::FuncOp f : funcs)
      if (failed(convertFunc(f)))
        return signalPassFailure();
  }

  /// `--dim-max=NAME:N,...` as the module attribute qopt.dim_max (names
  /// must be dynamic dims of some input).
  LogicalResult recordDimMax(ModuleOp module,
                             const llvm::StringMap<Value> &namedDims) {
    if (dimMax.empty())
      return success();
    SmallVector<StringRef> items;
    StringRef(dimMax).split(items, ',', -1, /*KeepEmpty=*/false);
    Builder b(module.getContext());
    NamedAttrList out;
    for (StringRef item : items) {
      auto [name, num] = item.rsplit(':');
      int64_t n;
      if (name.empty() || num.trim().getAsInteger(10, n) || n < 0)
        return emitError(module.getLoc())
               << "bad --dim-max '" << item << "': expected NAME:N";
      if (!namedDims.count(name))
        return emitError(module.getLoc())
               << "--dim-max names '" << name
               << "', which is no dynamic input dim of the model";
      out.set(name, b.getI64IntegerAttr(n));
    }
    module->setAttr("qopt.dim_max", out.getDictionary(module.getContext()));
    return success();
  }

  LogicalResult convertFunc(func::FuncOp oldFn) {
    Location fnLoc = oldFn.getLoc();
    ModuleOp module = oldFn->getParentOfType<ModuleOp>();
    llvm::StringMap<SmallVector<int64_t>> pinned;
    if (failed(parseInputShapes(inputShapes, fnLoc, pinned)))
      return failure();

    // Everything unsupported, reported at once.
    const HandlerRegistry &reg = getHandlerRegistry();
    std::string unsupported;
    unsigned numUnsupported = 0;
    oldFn.walk([&](qonnx::NodeOp n) {
      StringRef dom = n.getDomain();
      bool known = (dom.empty() || dom == "ai.onnx") &&
                   (n.getOpType() == "Constant" || reg.lookup(n.getOpType()));
      for (NamedAttribute a : n.getAttrs())
        if (isa<UnitAttr>(a.getValue()))
          known = false; // subgraph attributes (If/Loop/Scan)
      if (known)
        return;
      if (numUnsupported++ < 50)
        unsupported += ("\n  '" + n.getName() + "' (" +
                        (dom.empty() ? "" : dom + ".") + n.getOpType() +
                        ", opset " + Twine(n.getOpset()) + ")")
                           .str();
    });
    if (numUnsupported)
      return emitError(fnLoc) << numUnsupported
                              << " unsupported ONNX node(s):" << unsupported;

    // New signature: static, signless, annotated with the ONNX name/dtype.
    OpBuilder b(oldFn);
    SmallVector<Type> argTypes;
    SmallVector<DType> argDTypes;
    SmallVector<StringAttr> argNames;
    for (BlockArgument arg : oldFn.getArguments()) {
      auto nameAttr = oldFn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                         "qopt.name");
      std::string name = nameAttr ? nameAttr.str()
                                  : ("arg" + Twine(arg.getArgNumber())).str();
      auto ty = dyn_cast<TensorType>(arg.getType());
      DType dt = ty ? dtypeOf(ty.getElementType()) : DType::Undefined;
      if (dt == DType::Undefined || !elementType(b.getContext(), dt))
        return emitError(fnLoc) << "input '" << name << "' has unsupported type "
                                << arg.getType();
      SmallVector<int64_t> shape;
      auto it = pinned.find(name);
      if (it != pinned.end()) {
        shape = it->second;
        if (auto rt = dyn_cast<RankedTensorType>(ty)) {
          bool ok = rt.getRank() == (int64_t)shape.size();
          for (size_t k = 0; ok && k < shape.size(); ++k)
            ok = rt.isDynamicDim(k) || rt.getDimSize(k) == shape[k];
          if (!ok)
            return emitError(fnLoc) << "--input-shape for '" << name
                                    << "' does not match its declared type "
                                    << ty;
        }
        pinned.erase(it);
      } else {
        auto rt = dyn_cast<RankedTensorType>(ty);
        if (!rt)
          return emitError(fnLoc)
                 << "input '" << name << "' has unknown rank (" << ty
                 << "); give it a shape with --input-shape=" << name
                 << ":D0xD1x...";
        shape.assign(rt.getShape().begin(), rt.getShape().end());
      }
      argTypes.push_back(RankedTensorType::get(shape, elementType(b.getContext(), dt)));
      if (tooLarge(argTypes.back()))
        return emitError(fnLoc) << "input '" << name << "' of type "
                                << argTypes.back()
                                << " is too large (more than 2^47 bytes)";
      argDTypes.push_back(dt);
      argNames.push_back(b.getStringAttr(name));
    }
    if (!pinned.empty())
      return emitError(fnLoc) << "--input-shape names unknown input '"
                              << pinned.begin()->getKey() << "'";

    std::string fnName = oldFn.getName().str();
    auto newFn = func::FuncOp::create(b, fnLoc, fnName + ".qopt",
                                      b.getFunctionType(argTypes, {}));
    Block *entry = newFn.addEntryBlock();
    OpBuilder nb = OpBuilder::atBlockBegin(entry);
    Converter cv(nb);

    llvm::DenseMap<Value, std::optional<TValue>> map;
    // One SSA size per dynamic dim; dims that share an ONNX dim_param share
    // it, so e.g. batch_size is the same value in every tensor.
    llvm::StringMap<Value> namedDims;
    for (auto [k, arg] : llvm::enumerate(oldFn.getArguments())) {
      TValue tv{entry->getArgument(k), argDTypes[k]};
      map[arg] = tv;
      newFn.setArgAttr(k, "qopt.name", argNames[k]);
      newFn.setArgAttr(k, "qopt.dtype", nb.getI32IntegerAttr((int32_t)argDTypes[k]));
      auto names = oldFn.getArgAttrOfType<ArrayAttr>(k, "qopt.dim_names");
      if (names && (int64_t)names.size() == tv.rank())
        newFn.setArgAttr(k, "qopt.dim_names", names);
      if (!cv.isDynamic(tv))
        continue;
      SmallVector<OpFoldResult> ds;
      for (int64_t d = 0; d < tv.rank(); ++d) {
        if (!tv.type().isDynamicDim(d)) {
          ds.push_back(nb.getIndexAttr(tv.shape()[d]));
          continue;
        }
        StringRef dn;
        if (names && (int64_t)names.size() == tv.rank())
          if (auto s = dyn_cast<StringAttr>(names[d]))
            dn = s.getValue();
        Value &shared = namedDims[dn];
        Value size = !dn.empty() && shared
                         ? shared
                         : tensor::DimOp::create(nb, fnLoc, tv.v, d).getResult();
        if (!dn.empty())
          shared = size;
        ds.push_back(size);
      }
      cv.recordDims(tv.v, ds);
    }
    if (failed(recordDimMax(module, namedDims)))
      return newFn.erase(), failure();

    auto fail = [&]() {
      newFn.erase();
      return failure();
    };
    for (Operation &op : oldFn.front()) {
      if (isa<qonnx::NoneOp>(op)) {
        map[op.getResult(0)] = std::nullopt;
        continue;
      }
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        SmallVector<Value> outs;
        SmallVector<DType> outDTypes;
        for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
          auto it = map.find(v);
          if (it == map.end() || !it->second)
            return emitError(fnLoc) << "graph output #" << k
                                    << " is not produced", fail();
          outs.push_back(it->second->v);
          outDTypes.push_back(it->second->dt);
          // The declared type (if any) must agree with the computed one.
          auto declared = dyn_cast<TensorType>(oldFn.getResultTypes()[k]);
          auto computed = cast<ShapedType>(outs.back().getType());
          bool ok = !declared || dtypeOf(declared.getElementType()) ==
                                     outDTypes.back();
          if (ok && declared && declared.hasRank()) {
            ok = declared.getRank() == computed.getRank();
            for (int64_t d = 0; ok && d < declared.getRank(); ++d)
              ok = declared.isDynamicDim(d) || computed.isDynamicDim(d) ||
                   declared.getDimSize(d) == computed.getDimSize(d);
          }
          if (!ok) {
            auto nameAttr =
                oldFn.getResultAttrOfType<StringAttr>(k, "qopt.name");
            return emitError(fnLoc)
                       << "graph output '"
                       << (nameAttr ? nameAttr.str() : "#" + std::to_string(k))
                       << "' is declared as " << declared
                       << " but the graph computes "
                       << RankedTensorType::get(
                              computed.getShape(),
                              elementType(b.getContext(), outDTypes.back())),
                   fail();
          }
        }
        func::ReturnOp::create(nb, ret.getLoc(), outs);
        newFn.setType(nb.getFunctionType(argTypes, ValueRange(outs).getTypes()));
        for (unsigned k = 0; k < outs.size(); ++k) {
          if (auto dn = oldFn.getResultAttrOfType<ArrayAttr>(k, "qopt.dim_names"))
            if ((int64_t)dn.size() ==
                cast<ShapedType>(outs[k].getType()).getRank())
              newFn.setResultAttr(k, "qopt.dim_names", dn);
          auto nameAttr = oldFn.getResultAttrOfType<StringAttr>(k, "qopt.name");
          newFn.setResultAttr(k, "qopt.name",
                              nameAttr ? nameAttr
                                       : nb.getStringAttr("output" + Twine(k)));
          newFn.setResultAttr(k, "qopt.dtype",
                              nb.getI32IntegerAttr((int32_t)outDTypes[k]));
        }
        continue;
      }
      auto nodeOp = dyn_cast<qonnx::NodeOp>(op);
      if (!nodeOp)
        return op.emitError("unexpected op in an imported ONNX graph"), fail();

      Node node;
      node.op = nodeOp;
      node.type = nodeOp.getOpType();
      node.name = nodeOp.getName();
      node.opset = nodeOp.getOpset();
      node.numOutputs = nodeOp.getNumResults();
      for (Value in : nodeOp.getInputs()) {
        auto it = map.find(in);
        if (it == map.end())
          return cv.error(node) << "operand is not defined", fail();
        node.inputs.push_back(it->second);
      }
      cv.loc = nodeOp.getLoc();
      if (failed(applyLegacySemantics(cv, node)))
        return fail();
      if (node.type != "Constant" && !handlesDynamicShapes(node.type))
        for (auto &in : node.inputs)
          if (in && cv.isDynamic(*in))
            return cv.error(node)
                       << "input of type " << in->v.getType()
                       << ": this op is not supported with dynamic dims "
                          "yet; pin them with --input-shape=NAME:D0xD1x...",
                   fail();
      SmallVector<TValue> results;
      LogicalResult r =
          node.type == "Constant"
              ? convertConstant(cv, node, results)
              : (*reg.lookup(node.type))(cv, node, results);
      if (failed(r))
        return fail();
      if (results.size() > node.numOutputs)
        return cv.error(node) << "internal: handler produced too many results",
               fail();
      for (auto [k, r] : llvm::enumerate(results))
        if (tooLarge(r.v.getType()))
          return cv.error(node) << "result #" << k << " of type "
                                << r.v.getType()
                                << " is too large (more than 2^47 bytes)",
                 fail();
      for (unsigned k = 0; k < node.numOutputs; ++k) {
        Value old = nodeOp.getResult(k);
        if (k < results.size()) {
          map[old] = results[k];
          continue;
        }
        if (!old.use_empty())
          return cv.error(node) << "output #" << k << " is unsupported",
                 fail();
      }
    }

    oldFn.erase();
    newFn.setName(fnName);
    return success();
  }
};

} // namespace
