//===- ImportONNX.cpp - ONNX protobuf -> qonnx ----------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Mechanical import: graph inputs -> func.func @main arguments, initializers
// and Constant nodes -> qonnx.node "Constant", every other node -> qonnx.node.
// Nodes are emitted in topological order. libonnx throws C++ exceptions, so
// this file is compiled with exceptions and every entry point catches
// everything.
//
//===----------------------------------------------------------------------===//
#include "qopt/Target/ONNX/ImportONNX.h"

#include "qopt/Dialect/QONNX/QONNXDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx-ml.pb.h"

#include <climits>
#include <exception>
#include <queue>
#include <string>

using namespace mlir;
using namespace mlir::qopt;

namespace {

constexpr int64_t kMaxIRVersion = 10;
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 21;
/// Tensors at least this large become dense_resource blobs.
constexpr size_t kResourceThreshold = 1024;

/// An import error: a message, turned into exactly one diagnostic at the end.
struct ImportError {
  std::string message;
};

class Importer {
public:
  Importer(MLIRContext *ctx, StringRef path, const ImportOptions &opts)
      : ctx(ctx), path(path.str()), opts(opts), builder(ctx),
        fileLoc(FileLineColLoc::get(ctx, path, 0, 0)) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

  /// The first error, if any.
  std::string error;

private:
  LogicalResult fail(const Twine &msg) {
    if (error.empty())
      error = msg.str();
    return failure();
  }

  FailureOr<Type> elementType(int32_t dt, const Twine &what);
  FailureOr<Type> valueType(const onnx::ValueInfoProto &vi, bool required,
                            const Twine &what);
  FailureOr<ElementsAttr> tensorAttr(const onnx::TensorProto &t,
                                     const Twine &what);
  FailureOr<std::unique_ptr<llvm::MemoryBuffer>>
  readExternal(const onnx::TensorProto &t,
                                      size_t expected, const Twine &what);
  FailureOr<Attribute> attribute(const onnx::AttributeProto &a,
                                 const Twine &what);
  LogicalResult importGraph(const onnx::GraphProto &g, ModuleOp module);
  Location nameLoc(StringRef name) {
    return NameLoc::get(StringAttr::get(ctx, name), fileLoc);
  }

  MLIRContext *ctx;
  std::string path;
  const ImportOptions &opts;
  OpBuilder builder;
  Location fileLoc;
  llvm::StringMap<int64_t> opsets;
  int64_t defaultOpset = 0;
  unsigned resourceCounter = 0;
};

std::string dtypeName(int32_t dt) {
  if (onnx::TensorProto_DataType_IsValid(dt))
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(dt));
  return "<" + std::to_string(dt) + ">";
}

/// Bytes per element of the raw ONNX storage; 0 when unsupported.
size_t elementBytes(int32_t dt) {
  switch (dt) {
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
    return 1;
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    return 2;
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::FLOAT:
    return 4;
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
  case onnx::TensorProto::DOUBLE:
    return 8;
  default:
    return 0;
  }
}

FailureOr<Type> Importer::elementType(int32_t dt, const Twine &what) {
  Builder b(ctx);
  switch (dt) {
  case onnx::TensorProto::FLOAT:
    return Type(b.getF32Type());
  case onnx::TensorProto::DOUBLE:
    return Type(b.getF64Type());
  case onnx::TensorProto::FLOAT16:
    return Type(b.getF16Type());
  case onnx::TensorProto::BFLOAT16:
    return Type(b.getBF16Type());
  case onnx::TensorProto::INT8:
    return Type(b.getIntegerType(8));
  case onnx::TensorProto::INT16:
    return Type(b.getIntegerType(16));
  case onnx::TensorProto::INT32:
    return Type(b.getIntegerType(32));
  case onnx::TensorProto::INT64:
    return Type(b.getIntegerType(64));
  case onnx::TensorProto::UINT8:
    return Type(b.getIntegerType(8, /*isSigned=*/false));
  case onnx::TensorProto::UINT16:
    return Type(b.getIntegerType(16, false));
  case onnx::TensorProto::UINT32:
    return Type(b.getIntegerType(32, false));
  case onnx::TensorProto::UINT64:
    return Type(b.getIntegerType(64, false));
  case onnx::TensorProto::BOOL:
    return Type(b.getI1Type());
  default:
    (void)fail("unsupported element type " + dtypeName(dt) + " for " + what);
    return failure();
  }
}

FailureOr<Type> Importer::valueType(const onnx::ValueInfoProto &vi,
                                    bool required, const Twine &what) {
  if (!vi.has_type() || !vi.type().has_tensor_type()) {
    if (!required)
      return Type(qonnx::ValueType::get(ctx));
    std::string kind = "no type";
    if (vi.has_type()) {
      const auto &tp = vi.type();
      kind = tp.has_sequence_type()        ? "a sequence type"
             : tp.has_optional_type()      ? "an optional type"
             : tp.has_map_type()           ? "a map type"
             : tp.has_sparse_tensor_type() ? "a sparse tensor type"
                                           : "no tensor type";
    }
    (void)fail(what + " has " + kind + " (unsupported: only tensors)");
    return failure();
  }
  const auto &tt = vi.type().tensor_type();
  if (!tt.has_elem_type() || tt.elem_type() == onnx::TensorProto::UNDEFINED) {
    if (!required)
      return Type(qonnx::ValueType::get(ctx));
    (void)fail(what + " has no element type");
    return failure();
  }
  FailureOr<Type> et = elementType(tt.elem_type(), what);
  if (failed(et))
    return failure();
  if (!tt.has_shape())
    return Type(UnrankedTensorType::get(*et));
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() < 0) {
      (void)fail(what + " has negative dimension " + Twine(d.dim_value()));
      return failure();
    }
    if (d.has_dim_value())
      dims.push_back(d.dim_value());
    else
      dims.push_back(ShapedType::kDynamic);
  }
  return Type(RankedTensorType::get(dims, *et));
}

/// The ONNX dim_param names of a value's dims ("" for a fixed or unnamed
/// dim), or null when no dim is named.
static ArrayAttr dimNames(Builder &b, const onnx::ValueInfoProto &vi) {
  if (!vi.has_type() || !vi.type().has_tensor_type() ||
      !vi.type().tensor_type().has_shape())
    return {};
  SmallVector<Attribute> names;
  bool any = false;
  for (const auto &d : vi.type().tensor_type().shape().dim()) {
    std::string n = d.has_dim_param() ? d.dim_param() : "";
    any |= !n.empty();
    names.push_back(b.getStringAttr(n));
  }
  return any ? b.getArrayAttr(names) : ArrayAttr();
}

FailureOr<std::unique_ptr<llvm::MemoryBuffer>>
Importer::readExternal(const onnx::TensorProto &t,
                                              size_t expected,
                                              const Twine &what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    const std::string &k = kv.key();
    if (k == "location") {
      location = kv.value();
    } else if (k == "offset" || k == "length") {
      StringRef v(kv.value());
      int64_t n;
      if (v.getAsInteger(10, n) || n < 0) {
        (void)fail("invalid external data " + k + " '" + kv.value() +
                   "' for " + what);
        return failure();
      }
      (k == "offset" ? offset : length) = n;
    }
  }
  if (location.empty()) {
    (void)fail("external data of " + what + " has no location");
    return failure();
  }
  StringRef loc(location);
  if (llvm::sys::path::is_absolute(loc) ||
      llvm::sys::path::is_absolute(loc, llvm::sys::path::Style::windows) ||
      llvm::is_contained(llvm::make_range(llvm::sys::path::begin(loc),
                                          llvm::sys::path::end(loc)),
                         "..") ||
      loc.contains('\0')) {
    (void)fail("external data location '" + location + "' of " + what +
               " escapes the model directory");
    return failure();
  }
  SmallString<256> base;
  if (!opts.externalDataDir.empty())
    base = opts.externalDataDir;
  else
    base = llvm::sys::path::parent_path(path);
  if (base.empty())
    base = ".";
  SmallString<256> realBase, realFile, joined(base);
  llvm::sys::path::append(joined, loc);
  if (llvm::sys::fs::real_path(base, realBase)) {
    (void)fail("cannot resolve external data directory '" + base + "'");
    return failure();
  }
  if (llvm::sys::fs::real_path(joined, realFile)) {
    (void)fail("cannot open external data file '" + location + "' of " +
               what);
    return failure();
  }
  SmallString<256> prefix(realBase);
  if (!prefix.ends_with("/"))
    prefix += "/";
  if (!StringRef(realFile).starts_with(prefix)) {
    (void)fail("external data location '" + location + "' of " + what +
               " escapes the model directory");
    return failure();
  }
  uint64_t fileSize;
  if (llvm::sys::fs::file_size(realFile, fileSize) ||
      !llvm::sys::fs::is_regular_file(realFile)) {
    (void)fail("cannot open external data file '" + location + "' of " +
               what);
    return failure();
  }
  if ((uint64_t)offset > fileSize) {
    (void)fail("external data offset " + Twine(offset) + " of " + what +
               " is past the end of '" + location + "' (" + Twine(fileSize) +
               " bytes)");
    return failure();
  }
  if (length < 0)
    length = fileSize - offset;
  if ((uint64_t)length > fileSize - (uint64_t)offset) {
    (void)fail("external data range [" + Twine(offset) + ", " +
               Twine(offset + length) + ") of " + what +
               " is past the end of '" + location + "' (" + Twine(fileSize) +
               " bytes)");
    return failure();
  }
  if ((uint64_t)length != expected) {
    (void)fail("external data of " + what + " has " + Twine(length) +
               " bytes, expected " + Twine(expected));
    return failure();
  }
  if (length == 0)
    return std::unique_ptr<llvm::MemoryBuffer>();
  auto buf = llvm::MemoryBuffer::getFileSlice(realFile, length, offset,
                                              /*IsVolatile=*/false);
  if (!buf) {
    (void)fail("cannot read external data file '" + location + "' of " +
               what + ": " + buf.getError().message());
    return failure();
  }
  return std::move(*buf);
}

template <typename T, typename Src>
static void appendAs(std::string &out, const Src &src) {
  out.reserve(src.size() * sizeof(T));
  for (auto v : src) {
    T x = static_cast<T>(v);
    out.append(reinterpret_cast<const char *>(&x), sizeof(T));
  }
}

FailureOr<ElementsAttr> Importer::tensorAttr(const onnx::TensorProto &t,
                                             const Twine &whatTw) {
  std::string what = whatTw.str();
  int32_t dt = t.data_type();
  FailureOr<Type> et = elementType(dt, what);
  if (failed(et))
    return failure();
  size_t width = elementBytes(dt);
  SmallVector<int64_t> dims;
  uint64_t numElements = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) {
      (void)fail("negative dimension " + Twine(d) + " in " + what);
      return failure();
    }
    if (d != 0 && numElements > (uint64_t(1) << 62) / (uint64_t)d) {
      (void)fail("tensor " + what + " is too large");
      return failure();
    }
    numElements *= d;
    dims.push_back(d);
  }
  if (numElements > (uint64_t(1) << 62) / width) {
    (void)fail("tensor " + what + " is too large");
    return failure();
  }
  size_t expected = numElements * width;
  auto type = RankedTensorType::get(dims, *et);

  std::string storage;
  std::unique_ptr<llvm::MemoryBuffer> external;
  llvm::StringRef bytes;
  auto countMismatch = [&](size_t n) {
    (void)fail("tensor " + what + " has " + Twine(n) +
               " elements of data, expected " + Twine(numElements));
    return failure();
  };
  if (t.has_data_location() &&
      t.data_location() == onnx::TensorProto::EXTERNAL) {
    FailureOr<std::unique_ptr<llvm::MemoryBuffer>> ext =
        readExternal(t, expected, what);
    if (failed(ext))
      return failure();
    external = std::move(*ext);
    if (external)
      bytes = external->getBuffer();
  } else if (t.has_raw_data()) {
    if (t.raw_data().size() != expected) {
      (void)fail("tensor " + what + " has " + Twine(t.raw_data().size()) +
                 " bytes of raw data, expected " + Twine(expected));
      return failure();
    }
    bytes = t.raw_data();
  } else {
    switch (dt) {
    case onnx::TensorProto::FLOAT:
      if ((size_t)t.float_data_size() != numElements)
        return countMismatch(t.float_data_size());
      appendAs<float>(storage, t.float_data());
      break;
    case onnx::TensorProto::DOUBLE:
      if ((size_t)t.double_data_size() != numElements)
        return countMismatch(t.double_data_size());
      appendAs<double>(storage, t.double_data());
      break;
    case onnx::TensorProto::INT64:
      if ((size_t)t.int64_data_size() != numElements)
        return countMismatch(t.int64_data_size());
      appendAs<int64_t>(storage, t.int64_data());
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      if ((size_t)t.uint64_data_size() != numElements)
        return countMismatch(t.uint64_data_size());
      if (dt == onnx::TensorProto::UINT32)
        appendAs<uint32_t>(storage, t.uint64_data());
      else
        appendAs<uint64_t>(storage, t.uint64_data());
      break;
    default: // int32_data: INT32, INT16, INT8, UINT16, UINT8, BOOL, F16, BF16
      if ((size_t)t.int32_data_size() != numElements)
        return countMismatch(t.int32_data_size());
      switch (width) {
      case 1:
        appendAs<uint8_t>(storage, t.int32_data());
        break;
      case 2:
        appendAs<uint16_t>(storage, t.int32_data());
        break;
      default:
        appendAs<int32_t>(storage, t.int32_data());
        break;
      }
      break;
    }
  }
  if (!external && bytes.empty())
    bytes = storage;
  assert(bytes.size() == expected);

  if (dt == onnx::TensorProto::BOOL) {
    // DenseElementsAttr packs i1 as bits; ONNX stores one byte per element.
    SmallVector<bool> bits;
    bits.reserve(numElements);
    for (char c : bytes)
      bits.push_back(c != 0);
    return ElementsAttr(DenseElementsAttr::get(type, ArrayRef<bool>(bits)));
  }
  if (numElements == 0)
    return ElementsAttr(
        DenseElementsAttr::get(type, ArrayRef<Attribute>{}));
  if (expected >= kResourceThreshold) {
    // Blob key: the tensor name, sanitized; the manager makes it unique.
    std::string key = t.name().empty() ? "tensor" : t.name();
    for (char &c : key)
      if (!llvm::isAlnum(c) && c != '_' && c != '.')
        c = '_';
    if (!llvm::isAlpha(key[0]) && key[0] != '_')
      key = "_" + key;
    ++resourceCounter;
    // External data is used in place (the file slice, usually mmap'ed) when
    // it is aligned for its element type: a model larger than memory is not
    // copied onto the heap, and pages are read only when a pass needs them.
    constexpr size_t kAlign = alignof(std::max_align_t);
    if (external && (uintptr_t)bytes.data() % kAlign == 0) {
      ArrayRef<char> data(bytes.data(), bytes.size());
      auto *owner = external.release();
      return ElementsAttr(DenseResourceElementsAttr::get(
          type, key,
          AsmResourceBlob(
              data, kAlign,
              [owner](void *, size_t, size_t) { delete owner; },
              /*dataIsMutable=*/false)));
    }
    return ElementsAttr(DenseResourceElementsAttr::get(
        type, key,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(
            ArrayRef<char>(bytes.data(), bytes.size()), kAlign)));
  }
  return ElementsAttr(DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(bytes.data(), bytes.size())));
}

FailureOr<Attribute> Importer::attribute(const onnx::AttributeProto &a,
                                         const Twine &whatTw) {
  std::string what = whatTw.str();
  Builder b(ctx);
  if (!a.ref_attr_name().empty()) {
    (void)fail(what + " refers to function attribute '" + a.ref_attr_name() +
               "', which is unsupported");
    return failure();
  }
  auto type = a.type();
  if (type == onnx::AttributeProto::UNDEFINED) {
    // Old models leave the type out; infer it from the field that is set.
    if (a.has_f())
      type = onnx::AttributeProto::FLOAT;
    else if (a.has_i())
      type = onnx::AttributeProto::INT;
    else if (a.has_s())
      type = onnx::AttributeProto::STRING;
    else if (a.has_t())
      type = onnx::AttributeProto::TENSOR;
    else if (a.has_g())
      type = onnx::AttributeProto::GRAPH;
    else if (a.has_sparse_tensor())
      type = onnx::AttributeProto::SPARSE_TENSOR;
    else if (a.has_tp())
      type = onnx::AttributeProto::TYPE_PROTO;
    else if (a.floats_size())
      type = onnx::AttributeProto::FLOATS;
    else if (a.ints_size())
      type = onnx::AttributeProto::INTS;
    else if (a.strings_size())
      type = onnx::AttributeProto::STRINGS;
    else if (a.tensors_size())
      type = onnx::AttributeProto::TENSORS;
    else if (a.graphs_size())
      type = onnx::AttributeProto::GRAPHS;
    else {
      (void)fail(what + " has no type");
      return failure();
    }
  }
  switch (type) {
  case onnx::AttributeProto::FLOAT:
    return Attribute(b.getF32FloatAttr(a.f()));
  case onnx::AttributeProto::INT:
    return Attribute(b.getI64IntegerAttr(a.i()));
  case onnx::AttributeProto::STRING:
    return Attribute(b.getStringAttr(a.s()));
  case onnx::AttributeProto::TENSOR: {
    FailureOr<ElementsAttr> e = tensorAttr(a.t(), what);
    if (failed(e))
      return failure();
    return Attribute(*e);
  }
  case onnx::AttributeProto::FLOATS: {
    SmallVector<float> v(a.floats().begin(), a.floats().end());
    return Attribute(DenseF32ArrayAttr::get(ctx, v));
  }
  case onnx::AttributeProto::INTS: {
    SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
    return Attribute(DenseI64ArrayAttr::get(ctx, v));
  }
  case onnx::AttributeProto::STRINGS: {
    SmallVector<Attribute> v;
    for (const auto &s : a.strings())
      v.push_back(b.getStringAttr(s));
    return Attribute(b.getArrayAttr(v));
  }
  case onnx::AttributeProto::TENSORS: {
    SmallVector<Attribute> v;
    for (const auto &t : a.tensors()) {
      FailureOr<ElementsAttr> e = tensorAttr(t, what);
      if (failed(e))
        return failure();
      v.push_back(*e);
    }
    return Attribute(b.getArrayAttr(v));
  }
  case onnx::AttributeProto::GRAPH:
  case onnx::AttributeProto::GRAPHS:
  case onnx::AttributeProto::SPARSE_TENSOR:
  case onnx::AttributeProto::SPARSE_TENSORS:
  case onnx::AttributeProto::TYPE_PROTO:
  case onnx::AttributeProto::TYPE_PROTOS:
    return Attribute(b.getUnitAttr());
  default:
    (void)fail(what + " has unsupported attribute type " +
               Twine((int)type));
    return failure();
  }
}

/// The result type of a Constant node that is not a graph output.
static Type constantType(const onnx::NodeProto &n, DictionaryAttr attrs,
                         MLIRContext *ctx) {
  Builder b(ctx);
  if (auto v = attrs.getAs<ElementsAttr>("value"))
    return v.getType();
  if (attrs.get("value_float"))
    return RankedTensorType::get({}, b.getF32Type());
  if (auto v = attrs.getAs<DenseF32ArrayAttr>("value_floats"))
    return RankedTensorType::get({(int64_t)v.size()}, b.getF32Type());
  if (attrs.get("value_int"))
    return RankedTensorType::get({}, b.getI64Type());
  if (auto v = attrs.getAs<DenseI64ArrayAttr>("value_ints"))
    return RankedTensorType::get({(int64_t)v.size()}, b.getI64Type());
  return qonnx::ValueType::get(ctx);
}

LogicalResult Importer::importGraph(const onnx::GraphProto &g,
                                    ModuleOp module) {
  // Names known before any node runs: initializers, then inputs that are
  // not initializers.
  llvm::StringMap<unsigned> initIndex;
  for (auto [i, t] : llvm::enumerate(g.initializer())) {
    if (t.name().empty())
      return fail("initializer #" + Twine(i) + " has no name");
    if (!initIndex.try_emplace(t.name(), i).second)
      return fail("duplicate initializer '" + t.name() + "'");
  }
  llvm::StringSet<> defined;
  for (const auto &t : g.initializer())
    defined.insert(t.name());
  SmallVector<const onnx::ValueInfoProto *> args;
  SmallVector<Type> argTypes;
  for (const auto &in : g.input()) {
    if (initIndex.count(in.name()))
      continue; // Old IR: initializers listed among inputs are constants.
    if (in.name().empty())
      return fail("graph input without a name");
    if (!defined.insert(in.name()).second)
      return fail("duplicate graph input '" + in.name() + "'");
    FailureOr<Type> t = valueType(in, /*required=*/true,
                                  "input '" + in.name() + "'");
    if (failed(t))
      return failure();
    args.push_back(&in);
    argTypes.push_back(*t);
  }

  // Node names and producers.
  int n = g.node_size();
  SmallVector<std::string> nodeNames(n);
  llvm::StringMap<int> producer;
  for (int i = 0; i < n; ++i) {
    const auto &node = g.node(i);
    if (node.op_type().empty())
      return fail("node #" + Twine(i) + " has no op_type");
    nodeNames[i] = node.name().empty()
                       ? node.op_type() + "_" + std::to_string(i)
                       : node.name();
    for (const auto &out : node.output()) {
      if (out.empty())
        continue;
      if (defined.contains(out))
        return fail("node '" + nodeNames[i] + "' redefines tensor '" + out +
                    "' (a graph input or initializer)");
      auto [it, inserted] = producer.try_emplace(out, i);
      if (!inserted)
        return fail("tensor '" + out + "' is produced by both node '" +
                    nodeNames[it->second] + "' and node '" + nodeNames[i] +
                    "'");
    }
  }

  // Dependencies and Kahn's algorithm (stable: lowest index first).
  SmallVector<SmallVector<int>> users(n);
  SmallVector<int> indegree(n, 0);
  for (int i = 0; i < n; ++i) {
    for (const auto &in : g.node(i).input()) {
      if (in.empty() || defined.contains(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return fail("node '" + nodeNames[i] + "' (" + g.node(i).op_type() +
                    ") uses tensor '" + in +
                    "', which is not a graph input, initializer or node "
                    "output");
      users[it->second].push_back(i);
      ++indegree[i];
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (indegree[i] == 0)
      ready.push(i);
  SmallVector<int> order;
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[i])
      if (--indegree[u] == 0)
        ready.push(u);
  }
  if ((int)order.size() != n) {
    for (int i = 0; i < n; ++i)
      if (indegree[i] != 0)
        return fail("graph has a cycle through node '" + nodeNames[i] + "'");
  }

  // Graph outputs.
  if (g.output_size() == 0)
    return fail("graph has no outputs");
  llvm::StringMap<Type> outputTypes;
  for (const auto &out : g.output()) {
    if (out.name().empty())
      return fail("graph output without a name");
    if (outputTypes.count(out.name()))
      return fail("graph output '" + out.name() + "' is listed twice");
    if (!defined.contains(out.name()) && !producer.count(out.name()))
      return fail("graph output '" + out.name() +
                  "' is not produced by any node");
    FailureOr<Type> t = valueType(out, /*required=*/false,
                                  "output '" + out.name() + "'");
    if (failed(t))
      return failure();
    outputTypes.try_emplace(out.name(), *t);
  }

  // Build the function.
  builder.setInsertionPointToEnd(module.getBody());
  auto funcType = builder.getFunctionType(argTypes, {});
  auto func = func::FuncOp::create(builder, fileLoc, "main", funcType);
  Block *body = func.addEntryBlock();
  llvm::StringMap<Value> values;
  for (auto [i, vi] : llvm::enumerate(args)) {
    func.setArgAttr(i, "qopt.name", builder.getStringAttr(vi->name()));
    if (ArrayAttr dn = dimNames(builder, *vi))
      func.setArgAttr(i, "qopt.dim_names", dn);
    BlockArgument arg = body->getArgument(i);
    arg.setLoc(nameLoc(vi->name()));
    values[vi->name()] = arg;
  }
  builder.setInsertionPointToEnd(body);
  StringAttr emptyDomain = builder.getStringAttr("");
  IntegerAttr defaultOpsetAttr = builder.getI64IntegerAttr(defaultOpset);
  StringAttr constantName = builder.getStringAttr("Constant");

  for (const auto &t : g.initializer()) {
    FailureOr<ElementsAttr> e =
        tensorAttr(t, "initializer '" + t.name() + "'");
    if (failed(e))
      return failure();
    Type resultType = e->getType();
    auto attrs = builder.getDictionaryAttr(
        {builder.getNamedAttr("value", *e)});
    auto op = qonnx::NodeOp::create(
        builder, nameLoc(t.name()), TypeRange{resultType}, constantName,
        emptyDomain, defaultOpsetAttr, builder.getStringAttr(t.name()), attrs,
        ValueRange{});
    values[t.name()] = op->getResult(0);
  }

  Value none;
  for (int i : order) {
    const auto &node = g.node(i);
    const std::string &name = nodeNames[i];
    std::string domain = node.domain();
    if (domain == "ai.onnx")
      domain = "";
    auto opIt = opsets.find(domain);
    if (opIt == opsets.end())
      return fail("node '" + name + "' (" + node.op_type() +
                  ") uses domain '" + domain +
                  "', which has no opset_import");
    // Arity and attribute types against the ONNX schema (when known; other
    // ops are reported as unsupported by convert-onnx-to-qopt).
    const onnx::OpSchema *schema =
        domain.empty() ? onnx::OpSchemaRegistry::Schema(
                             node.op_type(), (int)opIt->second, "")
                       : nullptr;
    if (schema) {
      auto arity = [&](StringRef kind, int n, int lo, int hi) {
        if (n >= lo && n <= hi)
          return success();
        std::string range = lo == hi ? std::to_string(lo)
                            : hi == INT_MAX
                                ? std::to_string(lo) + " or more"
                                : std::to_string(lo) + " to " +
                                      std::to_string(hi);
        return fail("node '" + name + "' (" + node.op_type() + ", opset " +
                    Twine(opIt->second) + ") has " + Twine(n) + " " + kind +
                    "s, expected " + range);
      };
      if (failed(arity("input", node.input_size(), schema->min_input(),
                       schema->max_input())) ||
          failed(arity("output", node.output_size(), schema->min_output(),
                       schema->max_output())))
        return failure();
      for (const auto &a : node.attribute()) {
        auto it = schema->attributes().find(a.name());
        if (it != schema->attributes().end() &&
            a.type() != onnx::AttributeProto::UNDEFINED &&
            a.type() != it->second.type)
          return fail("attribute '" + a.name() + "' of node '" + name +
                      "' (" + node.op_type() + ") has type " +
                      onnx::AttributeProto_AttributeType_Name(a.type()) +
                      ", expected " +
                      onnx::AttributeProto_AttributeType_Name(
                          it->second.type));
      }
    }
    SmallVector<Value> operands;
    for (const auto &in : node.input()) {
      if (in.empty()) {
        if (!none)
          none = qonnx::NoneOp::create(builder, fileLoc, builder.getNoneType());
        operands.push_back(none);
        continue;
      }
      auto it = values.find(in);
      assert(it != values.end() && "topological order broken");
      operands.push_back(it->second);
    }
    SmallVector<NamedAttribute> attrList;
    llvm::StringSet<> seen;
    for (const auto &a : node.attribute()) {
      if (!seen.insert(a.name()).second)
        return fail("node '" + name + "' has duplicate attribute '" +
                    a.name() + "'");
      FailureOr<Attribute> attr = attribute(
          a, "attribute '" + a.name() + "' of node '" + name + "'");
      if (failed(attr))
        return failure();
      attrList.push_back(builder.getNamedAttr(a.name(), *attr));
    }
    DictionaryAttr attrs = builder.getDictionaryAttr(attrList);
    bool isConstant = domain.empty() && node.op_type() == "Constant";
    SmallVector<Type> resultTypes;
    for (const auto &out : node.output()) {
      auto it = outputTypes.find(out);
      if (!out.empty() && it != outputTypes.end())
        resultTypes.push_back(it->second);
      else if (isConstant)
        resultTypes.push_back(constantType(node, attrs, ctx));
      else
        resultTypes.push_back(qonnx::ValueType::get(ctx));
    }
    auto op = qonnx::NodeOp::create(
        builder, nameLoc(name), resultTypes,
        builder.getStringAttr(node.op_type()), builder.getStringAttr(domain),
        builder.getI64IntegerAttr(opIt->second), builder.getStringAttr(name),
        attrs, operands);
    for (auto [j, out] : llvm::enumerate(node.output()))
      if (!out.empty())
        values[out] = op->getResult(j);
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : g.output()) {
    Value v = values.lookup(out.name());
    assert(v && "graph output checked above");
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(g.output())) {
    func.setResultAttr(i, "qopt.name", builder.getStringAttr(out.name()));
    if (ArrayAttr dn = dimNames(builder, out))
      func.setResultAttr(i, "qopt.dim_names", dn);
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  ctx->loadDialect<func::FuncDialect, qonnx::QONNXDialect>();
  int64_t ir = model.ir_version();
  if (ir < 1 || ir > kMaxIRVersion) {
    (void)fail("ir_version " + Twine(ir) + " unsupported (1-" +
               Twine(kMaxIRVersion) + ")");
    return nullptr;
  }
  bool haveDefault = false;
  for (const auto &op : model.opset_import()) {
    std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
    if (op.version() < 1) {
      (void)fail("invalid opset " + Twine(op.version()) + " for domain '" +
                 domain + "'");
      return nullptr;
    }
    opsets[domain] = op.version();
    if (domain.empty()) {
      haveDefault = true;
      defaultOpset = op.version();
    }
  }
  // A model may import only other domains (e.g. ai.onnx.preview.training);
  // it then has no default-domain nodes (each node's domain is checked), and
  // the default opset only versions the initializers' Constant nodes.
  if (!haveDefault)
    defaultOpset = kMaxOpset;
  if (defaultOpset < kMinOpset || defaultOpset > kMaxOpset) {
    (void)fail("opset " + Twine(defaultOpset) + " unsupported (" +
               Twine(kMinOpset) + "-" + Twine(kMaxOpset) + ")");
    return nullptr;
  }
  if (!model.has_graph()) {
    (void)fail("model has no graph");
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = ModuleOp::create(builder, fileLoc);
  Builder b(ctx);
  (*module)->setAttr("qopt.ir_version", b.getI64IntegerAttr(ir));
  (*module)->setAttr("qopt.opset", b.getI64IntegerAttr(defaultOpset));
  (*module)->setAttr("qopt.producer", b.getStringAttr(model.producer_name()));
  if (failed(importGraph(model.graph(), *module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> importImpl(StringRef bytes, StringRef name,
                                 MLIRContext *ctx, bool isText,
                                 const ImportOptions &opts) {
  Location fileLoc = FileLineColLoc::get(ctx, name, 0, 0);
  std::string error;
  OwningOpRef<ModuleOp> module;
  try {
    onnx::ModelProto model;
    if (isText) {
      std::string text = bytes.str(); // The parser wants NUL termination.
      onnx::Status st = onnx::OnnxParser::Parse(model, text.c_str());
      if (!st.IsOK())
        error = "cannot parse ONNX text model: " + st.ErrorMessage();
    } else if (bytes.size() > (size_t)INT_MAX) {
      error = "ONNX model is larger than 2 GiB";
    } else if (!model.ParseFromArray(bytes.data(), (int)bytes.size())) {
      error = "cannot parse ONNX model (truncated or corrupt protobuf)";
    }
    if (error.empty()) {
      Importer importer(ctx, name, opts);
      module = importer.run(model);
      if (!module)
        error = importer.error.empty() ? "import failed" : importer.error;
    }
  } catch (const std::exception &e) {
    error = std::string("ONNX error: ") + e.what();
    module = nullptr;
  } catch (...) {
    error = "unknown ONNX error";
    module = nullptr;
  }
  if (!error.empty()) {
    emitError(fileLoc) << error;
    return nullptr;
  }
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp> mlir::qopt::importONNXBuffer(StringRef bytes,
                                                   StringRef bufferName,
                                                   MLIRContext *ctx,
                                                   bool isText,
                                                   const ImportOptions &opts) {
  return importImpl(bytes, bufferName, ctx, isText, opts);
}

OwningOpRef<ModuleOp> mlir::qopt::importONNXFile(StringRef path,
                                                 MLIRContext *ctx,
                                                 const ImportOptions &opts) {
  auto buf = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false,
                                                /*RequiresNullTerminator=*/
                                                false);
  if (!buf) {
    emitError(FileLineColLoc::get(ctx, path, 0, 0))
        << "cannot open file: " << buf.getError().message();
    return nullptr;
  }
  StringRef bytes = (*buf)->getBuffer();
  bool isText = path.ends_with(".onnxtext") || path.ends_with(".txt") ||
                bytes.ltrim().starts_with("<");
  return importImpl(bytes, path, ctx, isText, opts);
}
