//===- ToolSupport.cpp - shared command-line handling of the tools --------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Support/ToolSupport.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

bool mlir::qopt::parseToolCommandLine(int argc, const char *const *argv,
                                const char *overview) {
  std::string msgs;
  raw_string_ostream os(msgs);
  if (cl::ParseCommandLineOptions(argc, argv, overview, &os))
    return true;
  std::string tool = sys::path::filename(argv[0]).str();
  std::string prefix = tool + ": ";
  SmallVector<StringRef> lines;
  StringRef(msgs).split(lines, '\n', -1, /*KeepEmpty=*/false);
  std::string joined;
  for (StringRef l : lines) {
    l.consume_front(prefix);
    joined += (joined.empty() ? "" : " ") + l.trim().str();
  }
  errs() << tool << ": error: "
         << (joined.empty() ? "invalid command line (see above)" : joined)
         << "\n";
  return false;
}
