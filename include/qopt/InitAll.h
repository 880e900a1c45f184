//===- InitAll.h - curated registries ---------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_INITALL_H
#define QOPT_INITALL_H

namespace mlir {
class DialectRegistry;
namespace qopt {

/// The dialects qopt's pipelines use (ours and the upstream ones), with
/// their interface/bufferization/inliner extensions.
void registerAllDialects(DialectRegistry &registry);

/// qopt's passes and named pipelines plus the upstream passes the
/// pipelines are built from, so every stage replays in qopt-opt.
void registerAllPasses();

} // namespace qopt
} // namespace mlir

#endif
