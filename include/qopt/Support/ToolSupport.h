//===- ToolSupport.h - shared command-line handling of the tools -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_SUPPORT_TOOLSUPPORT_H
#define QOPT_SUPPORT_TOOLSUPPORT_H

namespace mlir {
namespace qopt {
/// cl::ParseCommandLineOptions, but a bad command line becomes one
/// "<tool>: error: ..." line (LLVM's own messages carry no "error:").
bool parseToolCommandLine(int argc, const char *const *argv,
                          const char *overview);
} // namespace qopt
} // namespace mlir

#endif
