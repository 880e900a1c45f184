//===- Report.cpp - the quantization noise report (JSON + SVG) ------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>

using namespace llvm;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

static std::optional<double> outputSQNR(const LayerInfo &L) {
  if (!L.outCount || !(L.sigPower > 0))
    return std::nullopt;
  if (L.noisePower <= 0)
    return INFINITY;
  return 10 * std::log10(L.sigPower / L.noisePower);
}

static json::Value dB(std::optional<double> v) {
  if (!v)
    return nullptr;
  if (!std::isfinite(*v))
    return "inf";
  return std::round(*v * 100) / 100;
}

std::string calib::reportJSON(const std::vector<LayerInfo> &layers,
                              StringRef model, const Method &m, bool asym,
                              int64_t sqnrSamples) {
  json::Array rows;
  double wSum = 0, oSum = 0, oMin = INFINITY;
  int quantized = 0, withOut = 0;
  for (const LayerInfo &L : layers) {
    json::Object row{{"name", L.label},
                     {"kind", L.conv ? "conv" : "matmul"},
                     {"K", L.K},
                     {"N", L.N}};
    bool q = !L.excluded && L.hasAct;
    if (!q) {
      row["scheme"] = L.excluded ? "f32 (excluded by --exclude)"
                                 : "f32 (no activation statistics)";
    } else {
      ++quantized;
      row["scheme"] = formatv("w8a8 static: activation int8 per-tensor {0} "
                              "(calibration {1}), weight int8 per-channel sym",
                              asym ? "asym (u8, zero point)" : "sym (i8)",
                              m.str())
                          .str();
      row["activation"] = json::Object{
          {"scale", (double)L.act.scale},
          {"zero_point", L.act.zeroPoint},
          {"storage", L.act.isUnsigned ? "u8" : "i8"},
          {"clip_min", L.act.clipLo},
          {"clip_max", L.act.clipHi}};
    }
    if (!L.wScale.empty()) {
      double mn = INFINITY, mx = 0, sum = 0;
      for (float s : L.wScale) {
        mn = std::min(mn, (double)s);
        mx = std::max(mx, (double)s);
        sum += s;
      }
      row["weight_scale"] = json::Object{
          {"count", (int64_t)L.wScale.size()},
          {"min", mn},
          {"max", mx},
          {"mean", sum / L.wScale.size()}};
    }
    row["weight_sqnr_db"] = dB(L.weightSQNR);
    auto o = q ? outputSQNR(L) : std::nullopt;
    row["output_sqnr_db"] = dB(o);
    if (q) {
      wSum += L.weightSQNR;
      if (o) {
        oSum += std::isfinite(*o) ? *o : 0;
        oMin = std::min(oMin, *o);
        ++withOut;
      }
    }
    rows.push_back(std::move(row));
  }
  json::Object summary{{"layers", (int64_t)layers.size()},
                       {"quantized", quantized}};
  if (quantized)
    summary["mean_weight_sqnr_db"] = dB(wSum / quantized);
  if (withOut) {
    summary["mean_output_sqnr_db"] = dB(oSum / withOut);
    summary["min_output_sqnr_db"] = dB(oMin);
  }
  json::Object root{
      {"format", "qopt-quant-report"},
      {"version", 1},
      {"model", model.str()},
      {"scheme", "w8a8-static"},
      {"calibration_method", m.str()},
      {"act_scheme", asym ? "asym" : "sym"},
      {"sqnr_samples", sqnrSamples},
      {"description",
       "One row per qopt.matmul with a constant [K, N] weight (kind "
       "matmul) and per Conv with a constant filter (kind conv: N = output "
       "channels, K = C/group * kernel size; output_sqnr_db is null, the "
       "host emulation covers matmuls only). "
       "weight_sqnr_db = 10 log10(sum W^2 / sum (W - dequant(quant(W)))^2) "
       "over the whole weight, with the int8 per-output-channel symmetric "
       "weight the compiled model uses. output_sqnr_db = 10 log10(sum y^2 / "
       "sum (y - y_q)^2) of the layer in isolation, over the first "
       "sqnr_samples calibration samples: x and y are the layer's FP32 "
       "input and output observed in the FP32 model (y = x W as the FP32 "
       "build computes it), y_q is the quantized layer applied to the same "
       "x, emulated on the host with the compiled layer's integer "
       "arithmetic (quantize x with the calibrated scale / zero point, "
       "int32 accumulation with the int8 weight, f32 epilogue acc * "
       "(s_x * s_w[n])). It measures each layer's own quantization noise, "
       "not the error accumulated through earlier quantized layers; null "
       "when not measured (--load-calibration without --calib). "
       "weight_scale summarises the per-output-channel weight scales; "
       "activation gives the per-tensor scale, zero point and the range "
       "[clip_min, clip_max] it represents."},
      {"summary", std::move(summary)},
      {"layers", std::move(rows)}};
  std::string out;
  raw_string_ostream os(out);
  os << formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return out;
}

static std::string xmlEscape(StringRef s) {
  std::string r;
  for (char c : s) {
    switch (c) {
    case '&': r += "&amp;"; break;
    case '<': r += "&lt;"; break;
    case '>': r += "&gt;"; break;
    case '"': r += "&quot;"; break;
    default: r.push_back(c);
    }
  }
  return r;
}

std::string calib::reportSVG(const std::vector<LayerInfo> &layers,
                             StringRef title) {
  const int labelW = 330, chartW = 520, rowH = 26, top = 64, barH = 10;
  double maxDB = 10;
  for (const LayerInfo &L : layers) {
    if (std::isfinite(L.weightSQNR))
      maxDB = std::max(maxDB, L.weightSQNR);
    if (auto o = outputSQNR(L); o && std::isfinite(*o))
      maxDB = std::max(maxDB, *o);
  }
  maxDB = std::ceil(maxDB / 10) * 10;
  int W = labelW + chartW + 90, H = top + rowH * (int)layers.size() + 40;
  std::string s;
  raw_string_ostream os(s);
  os << formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" "
                "height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n",
                W, H);
  os << formatv("<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n", W, H);
  os << formatv("<text x=\"10\" y=\"20\" font-size=\"15\" "
                "font-weight=\"bold\">{0}</text>\n",
                xmlEscape(title));
  os << formatv("<rect x=\"{0}\" y=\"30\" width=\"12\" height=\"10\" "
                "fill=\"#4e79a7\"/><text x=\"{1}\" y=\"39\">weight SQNR "
                "(dB)</text>\n",
                labelW, labelW + 16);
  os << formatv("<rect x=\"{0}\" y=\"30\" width=\"12\" height=\"10\" "
                "fill=\"#f28e2b\"/><text x=\"{1}\" y=\"39\">output SQNR "
                "(dB, layer in isolation)</text>\n",
                labelW + 140, labelW + 156);
  // Grid every 10 dB.
  for (double g = 0; g <= maxDB + 1e-9; g += 10) {
    double x = labelW + chartW * g / maxDB;
    os << formatv("<line x1=\"{0:f1}\" y1=\"{1}\" x2=\"{0:f1}\" y2=\"{2}\" "
                  "stroke=\"#ddd\"/><text x=\"{0:f1}\" y=\"{3}\" "
                  "text-anchor=\"middle\" fill=\"#555\">{4}</text>\n",
                  x, top - 8, top + rowH * (int)layers.size(),
                  top + rowH * (int)layers.size() + 14, (int)g);
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerInfo &L = layers[i];
    int y = top + rowH * (int)i;
    os << formatv("<text x=\"{0}\" y=\"{1}\" text-anchor=\"end\">{2}{3}"
                  "</text>\n",
                  labelW - 8, y + 15, xmlEscape(L.label),
                  L.excluded ? " (f32)" : "");
    auto bar = [&](double v, int dy, const char *color) {
      if (!std::isfinite(v))
        v = maxDB;
      double w = std::max(0.0, chartW * v / maxDB);
      os << formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2:f1}\" "
                    "height=\"{3}\" fill=\"{4}\"/><text x=\"{5:f1}\" "
                    "y=\"{6}\" font-size=\"10\" fill=\"#333\">{7:f1}</text>\n",
                    labelW, y + dy, w, barH, color, labelW + w + 4,
                    y + dy + 9, v);
    };
    bar(L.weightSQNR, 2, "#4e79a7");
    if (auto o = (!L.excluded && L.hasAct) ? outputSQNR(L) : std::nullopt)
      bar(*o, 2 + barH + 1, "#f28e2b");
  }
  os << "</svg>\n";
  return s;
}
