//===- DerivedConstant.h - constants computed from another constant -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Passes that rewrite a weight (quantize, pack, scale) build the new
// constant in the storage of the one it comes from: a dense_resource blob
// (named after it, so large weights stay out of the IR text and reach the
// sidecar .weights file) or a plain dense attribute.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_SUPPORT_DERIVEDCONSTANT_H
#define QOPT_SUPPORT_DERIVEDCONSTANT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::qopt {

/// `values` as an attribute of `type`: a resource "<like's key><suffix>"
/// when `like` is a dense_resource, else dense elements.
template <typename T>
ElementsAttr derivedConstantAttr(RankedTensorType type, ArrayRef<T> values,
                                 Attribute like, StringRef suffix) {
  if (auto r = dyn_cast_or_null<DenseResourceElementsAttr>(like))
    return DenseResourceElementsAttr::get(
        type, (r.getRawHandle().getKey() + suffix).str(),
        HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
  return DenseElementsAttr::get(type, values);
}

/// The raw bytes of a dense or dense_resource constant whose elements are
/// `elementType`, or empty; a dense splat comes back as one element with
/// `splat` set.
inline ArrayRef<char> rawConstantBytes(Attribute attr, Type elementType,
                                       bool &splat) {
  splat = false;
  if (auto d = dyn_cast<DenseElementsAttr>(attr)) {
    if (d.getElementType() != elementType)
      return {};
    splat = d.isSplat();
    return d.getRawData();
  }
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob())
      return blob->getData();
  return {};
}

} // namespace mlir::qopt

#endif
