//===- Driver.cpp - the w8a8 static flow (qopt-compile --quant=w8a8) -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"

#include "mlir/Pass/PassManager.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"
#include "qopt/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

std::string calib::svgPathFor(StringRef reportPath) {
  if (reportPath.ends_with(".json"))
    return (reportPath.drop_back(5) + ".svg").str();
  return (reportPath + ".svg").str();
}

static bool writeFileAtomically(StringRef path, StringRef data,
                                std::string &err) {
  if (Error e = writeToOutput(path, [&](raw_ostream &os) -> Error {
        os << data;
        return Error::success();
      })) {
    err = "cannot write '" + path.str() + "': " + toString(std::move(e));
    return false;
  }
  return true;
}

LogicalResult calib::quantizeStaticW8A8(ModuleOp module,
                                        const StaticQuantOptions &o,
                                        std::string &err) {
  MLIRContext *ctx = module.getContext();
  if (o.calibPath.empty() && o.loadPath.empty()) {
    err = "--quant=w8a8 (static activations) needs calibration data: "
          "--calib=FILE (or --load-calibration=FILE)";
    return failure();
  }
  {
    PassManager pm(ctx);
    pm.addPass(createQOptInsertObserversPass());
    if (failed(pm.run(module))) {
      err = "inserting the calibration observers failed";
      return failure();
    }
  }
  std::vector<LayerInfo> layers;
  if (!collectLayers(module, o.exclude, layers, err))
    return failure();

  // The calibration build (needed to collect statistics, and for the output
  // SQNR of the report).
  std::unique_ptr<Runner> runner;
  std::vector<Sample> samples;
  if (!o.calibPath.empty()) {
    OwningOpRef<ModuleOp> clone(cast<ModuleOp>(module->clone()));
    runner = Runner::create(*clone, o.pipeline, err);
    if (!runner)
      return failure();
    if (!loadCalibrationData(o.calibPath, runner->inputs(), o.maxSamples,
                             samples, err))
      return failure();
  }
  StatsMap stats;
  if (!o.loadPath.empty()) {
    auto buf = MemoryBuffer::getFile(o.loadPath, /*IsText=*/true);
    if (!buf) {
      err = "cannot read '" + o.loadPath + "': " + buf.getError().message();
      return failure();
    }
    if (!statsFromJSON((*buf)->getBuffer(), o.loadPath, stats, err))
      return failure();
  } else {
    auto progress = [&](int pass, size_t done, size_t total) {
      if (!o.progress)
        return;
      errs() << formatv("\rqopt-compile: calibrating (pass {0}/2): {1}/{2} "
                        "samples",
                        pass, done, total);
      if (pass == 2 && done == total)
        errs() << "\n";
      errs().flush();
    };
    if (!collectStatistics(*runner, samples, stats, err, progress))
      return failure();
  }
  if (!o.savePath.empty() &&
      !writeFileAtomically(o.savePath,
                           statsToJSON(stats, o.modelName,
                                       (int64_t)samples.size()),
                           err))
    return failure();

  // Activation parameters per quantized layer.
  for (LayerInfo &L : layers) {
    if (L.excluded)
      continue;
    auto it = stats.find(L.label);
    if (it == stats.end()) {
      err = (o.loadPath.empty() ? std::string("calibration produced")
                                : "'" + o.loadPath + "' has") +
            " no statistics for layer '" + L.label + "'" +
            (o.loadPath.empty() ? "" : " (was it saved for another model?)");
      return failure();
    }
    L.act = computeActParams(it->second, o.method, o.asym);
    L.hasAct = true;
  }
  int64_t sqnrSamples = 0;
  if (runner && !o.reportPath.empty()) {
    std::vector<Sample> sub(samples.begin(),
                            samples.begin() +
                                std::min<size_t>(samples.size(),
                                                 (size_t)o.sqnrSamples));
    sqnrSamples = (int64_t)sub.size();
    if (!measureOutputSQNR(*runner, sub, layers, err))
      return failure();
  }
  runner.reset();

  // Strip the observers, attach the parameters, rewrite.
  SmallVector<ObserveOp> obs;
  module.walk([&](ObserveOp op) { obs.push_back(op); });
  for (ObserveOp op : obs) {
    op.getResult().replaceAllUsesWith(op.getInput());
    op.erase();
  }
  std::vector<std::string> missing;
  attachActParams(module, layers, missing);
  {
    PassManager pm(ctx);
    QOptQuantizeStaticPassOptions so;
    so.actScheme = o.asym ? "asym" : "sym";
    so.exclude = o.exclude;
    pm.addPass(createQOptQuantizeStaticPass(so));
    if (failed(pm.run(module))) {
      err = "qopt-quantize-static failed";
      return failure();
    }
  }
  if (!o.reportPath.empty()) {
    if (!writeFileAtomically(o.reportPath,
                             reportJSON(layers, o.modelName, o.method, o.asym,
                                        sqnrSamples),
                             err) ||
        !writeFileAtomically(
            svgPathFor(o.reportPath),
            reportSVG(layers, "w8a8 static (" + o.method.str() + ", act " +
                                  (o.asym ? "asym" : "sym") + "): " +
                                  o.modelName),
            err))
      return failure();
  }
  return success();
}
