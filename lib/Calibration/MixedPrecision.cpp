//===- MixedPrecision.cpp - per-layer bit-width choice under a budget -----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "MixedPrecision.h"

using namespace mlir::qopt;
using namespace mlir::qopt::calib;

bool calib::choosePrecisions(std::vector<PrecisionChoice> &layers,
                             double budgetBits) {
  double total = 0, used = 0;
  for (PrecisionChoice &c : layers) {
    c.pick = 0;
    total += (double)c.params;
    used += c.params * c.bpw[0];
  }
  double budget = budgetBits * total;
  if (used > budget)
    return false;
  // Repeatedly take the upgrade (to any higher precision) with the largest
  // damage reduction per extra bit that still fits.
  for (;;) {
    int bestL = -1, bestP = 0;
    double bestRate = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      PrecisionChoice &c = layers[l];
      for (int p = c.pick + 1; p < 3; ++p) {
        double extra = c.params * (c.bpw[p] - c.bpw[c.pick]);
        double gain = c.damage[c.pick] - c.damage[p];
        if (extra <= 0 || used + extra > budget || gain <= 0)
          continue;
        double rate = gain / extra;
        if (rate > bestRate) {
          bestRate = rate;
          bestL = (int)l;
          bestP = p;
        }
      }
    }
    if (bestL < 0)
      return true;
    PrecisionChoice &c = layers[bestL];
    used += c.params * (c.bpw[bestP] - c.bpw[c.pick]);
    c.pick = bestP;
  }
}
