//===- Stats.cpp - calibration statistics, methods, JSON ------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"

#include "qopt/Transforms/QuantMath.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>

using namespace llvm;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

double TensorStats::absMax() const {
  if (count == 0 || !(max >= min))
    return 0;
  return std::max(std::fabs(min), std::fabs(max));
}

void TensorStats::addRange(const float *x, int64_t n, int64_t lastDim) {
  ++calls;
  if (lastDim <= 0 || n % lastDim)
    lastDim = 0;
  if (lastDim && channelAbsMax.size() != (size_t)lastDim) {
    if (channelAbsMax.empty())
      channelAbsMax.assign(lastDim, 0.0f);
    else
      lastDim = 0; // shape changed between samples: keep the first
  }
  float lo = INFINITY, hi = -INFINITY;
  uint64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (!std::isfinite(v)) {
      ++bad;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (lastDim) {
      float &c = channelAbsMax[i % lastDim];
      c = std::max(c, std::fabs(v));
    }
  }
  nonFinite += bad;
  count += n - bad;
  if (n > (int64_t)bad) {
    min = std::min(min, (double)lo);
    max = std::max(max, (double)hi);
  }
}

void TensorStats::addHistogram(const float *x, int64_t n) {
  if (hist.size() != (size_t)kHistBins)
    hist.assign(kHistBins, 0.0);
  if (!(histRange > 0)) {
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(x[i]))
        hist[0] += 1;
    return;
  }
  double inv = kHistBins / histRange;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    if (!std::isfinite(v))
      continue;
    int64_t b = (int64_t)(std::fabs(v) * inv);
    hist[std::min<int64_t>(b, kHistBins - 1)] += 1;
  }
}

std::string Method::str() const {
  switch (kind) {
  case MinMax: return "minmax";
  case Percentile: return formatv("percentile:{0}", percentile).str();
  case Entropy: return "entropy";
  case MSE: return "mse";
  }
  return "?";
}

bool calib::parseMethod(StringRef text, Method &m, std::string &err) {
  auto [name, arg] = text.split(':');
  if (name == "minmax" || name == "entropy" || name == "mse") {
    if (!arg.empty()) {
      err = "--calib-method=" + name.str() + " takes no argument";
      return false;
    }
    m.kind = name == "minmax"    ? Method::MinMax
             : name == "entropy" ? Method::Entropy
                                 : Method::MSE;
    return true;
  }
  if (name == "percentile") {
    m.kind = Method::Percentile;
    m.percentile = 99.99;
    if (!arg.empty() && (arg.getAsDouble(m.percentile) || !(m.percentile > 0) ||
                         m.percentile > 100)) {
      err = "bad --calib-method='" + text.str() +
            "': the percentile must be a number in (0, 100]";
      return false;
    }
    return true;
  }
  err = "unknown --calib-method='" + text.str() +
        "' (expected minmax, percentile[:99.99], entropy or mse)";
  return false;
}

/// TensorRT's entropy calibration: the threshold (a bin edge i >= 128)
/// minimising KL(P || Q), P = the histogram clipped at i (outliers added to
/// the last bin), Q = P's in-range part quantized to 128 levels and
/// expanded back over the non-empty bins.
static double entropyThreshold(const std::vector<double> &hist, double width) {
  const int levels = 128;
  int B = (int)hist.size();
  if (B <= levels)
    return B * width;
  std::vector<double> suffix(B + 1, 0.0);
  for (int i = B - 1; i >= 0; --i)
    suffix[i] = suffix[i + 1] + hist[i];
  double bestKL = INFINITY;
  int best = B;
  std::vector<double> q(B);
  for (int i = levels; i <= B; ++i) {
    double pTotal = suffix[0];
    if (pTotal <= 0)
      break;
    // Q: merge hist[0, i) into `levels` groups (bin k -> group
    // floor(k * levels / i), i.e. numpy.digitize over linspace(0, i,
    // levels + 1) as the reference implementations do); spread each group's
    // total over its non-empty bins. (Until 2026-11 the groups were
    // [floor(j i / levels), floor((j + 1) i / levels)), which moved some
    // thresholds by up to 175 bins against python/qopt/entropy_ref.py.)
    double qTotal = 0;
    for (int j = 0; j < levels; ++j) {
      int s = (int)(((int64_t)j * i + levels - 1) / levels);
      int e = (int)(((int64_t)(j + 1) * i + levels - 1) / levels);
      double total = 0;
      int nonzero = 0;
      for (int k = s; k < e; ++k) {
        total += hist[k];
        nonzero += hist[k] != 0;
      }
      for (int k = s; k < e; ++k)
        q[k] = hist[k] != 0 ? total / nonzero : 0.0;
      qTotal += total;
    }
    if (qTotal <= 0)
      continue;
    double kl = 0;
    for (int k = 0; k < i; ++k) {
      double p = hist[k] + (k == i - 1 ? suffix[i] : 0.0);
      if (p <= 0)
        continue;
      // P > 0 where Q = 0 (outliers folded into an empty last bin): the
      // divergence is infinite, the candidate invalid. (A floor on Q here
      // made such thresholds look almost free.)
      if (q[k] <= 0) {
        kl = INFINITY;
        break;
      }
      p /= pTotal;
      kl += p * std::log(p / (q[k] / qTotal));
    }
    if (kl < bestKL) {
      bestKL = kl;
      best = i;
    }
  }
  return best * width;
}

/// The threshold T (a bin edge) minimising sum_b hist[b] (c_b - fq(c_b))^2
/// with c_b the bin centre and fq symmetric 8-bit fake quantization over
/// [-T, T] (127 levels per side, saturating).
static double mseThreshold(const std::vector<double> &hist, double width) {
  int B = (int)hist.size();
  double best = INFINITY, bestT = B * width;
  for (int i = 8; i <= B; ++i) {
    double T = i * width, delta = T / 127.0, err = 0;
    for (int b = 0; b < B; ++b) {
      if (hist[b] == 0)
        continue;
      double c = (b + 0.5) * width;
      double q = std::min(std::nearbyint(c / delta), 127.0) * delta;
      err += hist[b] * (c - q) * (c - q);
    }
    if (err < best) {
      best = err;
      bestT = T;
    }
  }
  return bestT;
}

static double percentileThreshold(const std::vector<double> &hist,
                                  double width, double pct) {
  double total = 0;
  for (double h : hist)
    total += h;
  if (total <= 0)
    return 0;
  double target = total * pct / 100.0, cum = 0;
  for (size_t b = 0; b < hist.size(); ++b) {
    if (cum + hist[b] >= target) {
      double frac = hist[b] > 0 ? (target - cum) / hist[b] : 1.0;
      return (b + frac) * width;
    }
    cum += hist[b];
  }
  return hist.size() * width;
}

double calib::clipThreshold(const TensorStats &s, const Method &m) {
  double amax = s.absMax();
  if (m.kind == Method::MinMax || s.hist.size() != (size_t)kHistBins ||
      !(s.histRange > 0))
    return amax;
  double width = s.histRange / kHistBins;
  double t = amax;
  switch (m.kind) {
  case Method::Percentile:
    t = percentileThreshold(s.hist, width, m.percentile);
    break;
  case Method::Entropy:
    t = entropyThreshold(s.hist, width);
    break;
  case Method::MSE:
    t = mseThreshold(s.hist, width);
    break;
  case Method::MinMax:
    break;
  }
  return std::min(t, amax);
}

ActParams calib::computeActParams(const TensorStats &s, const Method &m,
                                  bool asym) {
  double t = clipThreshold(s, m);
  ActParams a;
  if (!asym) {
    QParams p = symmetricParams((float)t, QRange::get(8, false));
    a.scale = p.scale;
    a.zeroPoint = 0;
    a.clipLo = -t;
    a.clipHi = t;
    return a;
  }
  double lo = s.count ? std::max(s.min, -t) : 0.0;
  double hi = s.count ? std::min(s.max, t) : 0.0;
  QParams p = asymmetricParams((float)lo, (float)hi, QRange::get(8, true));
  a.scale = p.scale;
  a.zeroPoint = p.zeroPoint;
  a.isUnsigned = true;
  a.clipLo = std::min(lo, 0.0);
  a.clipHi = std::max(hi, 0.0);
  return a;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static json::Value num(double v) {
  if (!std::isfinite(v))
    return nullptr;
  return v;
}

std::string calib::statsToJSON(const StatsMap &stats, StringRef model,
                               int64_t samples) {
  json::Object obs;
  for (const auto &[label, s] : stats) {
    json::Array chan, hist;
    for (float c : s.channelAbsMax)
      chan.push_back((double)c);
    for (double h : s.hist)
      hist.push_back((int64_t)h);
    obs[label] = json::Object{{"count", (int64_t)s.count},
                              {"calls", (int64_t)s.calls},
                              {"non_finite", (int64_t)s.nonFinite},
                              {"min", num(s.min)},
                              {"max", num(s.max)},
                              {"hist_range", s.histRange},
                              {"channel_abs_max", std::move(chan)},
                              {"hist", std::move(hist)}};
  }
  json::Object root{
      {"format", "qopt-calibration"},
      {"version", kFormatVersion},
      {"description",
       "Activation statistics per qopt.observe label (layer input: the "
       "layer name; layer output: '<layer>:output'). min/max over all "
       "finite elements; channel_abs_max: max |x| per index of the last "
       "dimension; hist: counts of |x| in hist_bins equal bins over [0, "
       "hist_range]."},
      {"model", model.str()},
      {"samples", samples},
      {"hist_bins", kHistBins},
      {"observers", std::move(obs)}};
  std::string out;
  raw_string_ostream os(out);
  os << formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return out;
}

bool calib::statsFromJSON(StringRef text, StringRef path, StatsMap &stats,
                          std::string &err) {
  auto bad = [&](const Twine &msg) {
    err = ("'" + path + "': " + msg).str();
    return false;
  };
  Expected<json::Value> v = json::parse(text);
  if (!v)
    return bad("not valid JSON: " + toString(v.takeError()));
  json::Object *root = v->getAsObject();
  if (!root || root->getString("format") != std::optional<StringRef>("qopt-calibration"))
    return bad("not a qopt calibration file (\"format\" is not "
               "\"qopt-calibration\")");
  auto ver = root->getInteger("version");
  if (!ver || *ver != kFormatVersion)
    return bad("unsupported calibration file version " +
               (ver ? std::to_string(*ver) : std::string("(none)")) +
               " (this qopt reads version " + std::to_string(kFormatVersion) +
               ")");
  auto bins = root->getInteger("hist_bins");
  if (!bins || *bins != kHistBins)
    return bad("hist_bins must be " + std::to_string(kHistBins));
  json::Object *obs = root->getObject("observers");
  if (!obs)
    return bad("no \"observers\" object");
  for (auto &[key, val] : *obs) {
    json::Object *o = val.getAsObject();
    std::string label = key.str();
    if (!o)
      return bad("observer '" + label + "' is not an object");
    TensorStats s;
    s.label = label;
    auto gi = [&](StringRef k, uint64_t &dst) {
      if (auto x = o->getInteger(k))
        dst = (uint64_t)*x;
    };
    gi("count", s.count);
    gi("calls", s.calls);
    gi("non_finite", s.nonFinite);
    auto mn = o->getNumber("min"), mx = o->getNumber("max"),
         hr = o->getNumber("hist_range");
    if (s.count && (!mn || !mx || !hr))
      return bad("observer '" + label + "' lacks min/max/hist_range");
    if (mn)
      s.min = *mn;
    if (mx)
      s.max = *mx;
    if (hr)
      s.histRange = *hr;
    if (json::Array *c = o->getArray("channel_abs_max"))
      for (auto &e : *c)
        s.channelAbsMax.push_back((float)e.getAsNumber().value_or(0));
    if (json::Array *h = o->getArray("hist")) {
      if (!h->empty() && h->size() != (size_t)kHistBins)
        return bad("observer '" + label + "' has " + Twine(h->size()) +
                   " histogram bins, expected " + Twine(kHistBins));
      for (auto &e : *h)
        s.hist.push_back(e.getAsNumber().value_or(0));
    }
    stats[label] = std::move(s);
  }
  return true;
}
