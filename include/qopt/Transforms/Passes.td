//===- Passes.td - qopt graph transformations (quantization) -*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_TRANSFORMS_PASSES
#define QOPT_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def QOptQuantizeWeightsPass : Pass<"qopt-quantize-weights", "ModuleOp"> {
  let summary = "Weight-only quantization (RTN) of matmuls with constant weights";
  let description = [{
    Every `qopt.matmul` whose rhs is a constant f32 `[K, N]` weight gets an
    integer weight: `bits=8` is int8 per output channel (axis N); `bits=4`
    is int4 in groups of `group-size` rows along K (per channel when
    `group-size` is 0 or >= K). Round half to even with saturation
    (lib/Transforms/QuantMath.cpp, docs/semantics.md §1). `scheme=sym`:
    zero point 0, scale = max|w| / qmax; `asym`: min/max (widened to
    include 0). The weight becomes an i8 constant (int4 values packed two
    per byte behind a `qopt.unpack_int4`, docs/semantics.md §10, unless
    `pack-int4=false`) feeding a `qopt.dequantize` (per axis, or blocked
    with `block_size` = group size) into the unchanged f32 matmul:
    activations stay f32. Convs with a constant filter are quantized the
    same way (filter as [M, K], per output channel or groups along K).

    `exclude` is a regular expression (searched, not anchored) matched
    against the layer's ONNX node name (`qopt.layer`), its location name
    and the weight's name; matching layers stay f32. Quantized matmuls get
    `qopt.quant = "w8"|"w4"`.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"8", "weight bits: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "rows of K per scale for bits=4 (0: per output channel)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"sym\"",
           "sym | asym">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "regex of layer / weight names to keep in f32">,
    Option<"packInt4", "pack-int4", "bool", /*default=*/"true",
           "store int4 weights two per byte (qopt.unpack_int4); false: one per byte">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptQuantizeDynamicPass : Pass<"qopt-quantize-dynamic", "ModuleOp"> {
  let summary = "Dynamic activation quantization: w8a8-dynamic and w4a8";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` rhs and a static-shape
    lhs becomes integer arithmetic: the lhs, flattened to `[M, K]`, is
    quantized at run time to int8 (`qopt.dynamic_quantize`, per token with
    `act-granularity=token`, else per tensor; `act-scheme=asym` gives u8
    with a zero point), the weight is quantized at compile time like
    qopt-quantize-weights, and the product is `qopt.qmatmul` (int32
    accumulation; activation and int8 weight zero points are handled inside
    it) followed by an f32 epilogue `acc * s_x[m] * s_w[n]`.

    With `weight-bits=4` the weight is int4 in groups of `group-size` along
    K: the weight is stored `[G, gs, N]`, the activation is reshaped to
    `[G, M, gs]`, one batched qmatmul gives `[G, M, N]` int32 partial sums
    and the epilogue is `sum_g acc[g] * s_x[m] * s_w[g, n]` in f32. Asym
    int4 weights are stored with their zero point subtracted (values in
    [-15, 15], still exact in i8). K must be a multiple of the group size.
  }];
  let options = [
    Option<"weightBits", "weight-bits", "int64_t", /*default=*/"8",
           "weight bits: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "rows of K per weight scale for weight-bits=4 (0: per channel)">,
    Option<"weightScheme", "weight-scheme", "std::string", /*default=*/"\"sym\"",
           "sym | asym">,
    Option<"actScheme", "act-scheme", "std::string", /*default=*/"\"asym\"",
           "sym (i8, zp 0) | asym (u8 with zero point)">,
    Option<"perToken", "per-token", "bool", /*default=*/"true",
           "one activation scale per row (token); false: per tensor">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "regex of layer / weight names to keep in f32">,
    Option<"packInt4", "pack-int4", "bool", /*default=*/"true",
           "store int4 weights two per byte (qopt.unpack_int4); false: one per byte">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptFoldQDQPass : Pass<"qopt-fold-qdq"> {
  let summary = "Fold QuantizeLinear/DequantizeLinear (QDQ) MatMul/Gemm/Conv into integer kernels";
  let description = [{
    Graphs that carry their quantization as QDQ pairs (QAT exports, ONNX
    Runtime's QDQ format) keep their scales and become integer kernels:
    `qopt.matmul(qopt.dequantize(xq), qopt.dequantize(wq))` with a per-tensor
    activation and a per-tensor or per-output-column (axis = last dim)
    weight, both stored in at most 8 bits, becomes
    `qopt.dequantize(qopt.qmatmul(xq, wq, zx, zw), sx * sw[n], 0)`: an
    int32-accumulated product and an f32 epilogue (docs/semantics.md §9).
    A Gemm's transposed weight (`linalg.transpose` of the dequantized
    `[N, K]` weight, per-row scales) folds the same way. A Conv (the
    importer's `qopt.conv` generic) over a dequantized, zero-padded input
    (per tensor) and a dequantized filter (per tensor or per output channel)
    becomes the integer conv (i32 accumulation, padding = the input's zero
    point) with the epilogue `acc * (sx * sw[m])`. A `qopt.quantize` of the
    result (the output's Q parameters) stays in place after the epilogue.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptInsertObserversPass : Pass<"qopt-insert-observers", "ModuleOp"> {
  let summary = "Insert calibration observers around the layers w8a8 quantizes";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` weight gets a
    `qopt.observe` on its activation input (label = the layer name) and,
    with `observe-outputs`, one on its result (label `<layer>:output`, for
    the output SQNR of the noise report). Ids are unique in the module
    (continuing after existing observers). The layer name is `qopt.layer`,
    else the location name, else the weight's name, else `matmul_<i>`;
    duplicates get a `#k` suffix, and the name is written back to the
    matmul as `qopt.layer`. Matmuls whose input is already observed are
    skipped (the pass is idempotent).
  }];
  let options = [
    Option<"observeOutputs", "observe-outputs", "bool", /*default=*/"true",
           "also observe each layer's output">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
}

def QOptLowerObserversPass : Pass<"qopt-lower-observers", "ModuleOp"> {
  let summary = "Calibration builds: qopt.observe -> call @qopt_observe(id, data, numel)";
  let description = [{
    Runs on the tensor level, before bufferization, in calibration builds
    only (other builds strip the observers). Each f32 `qopt.observe` becomes
    `bufferization.to_buffer` (read-only) + `memref.extract_aligned_pointer_as_index`
    + `func.call @qopt_observe(i64 id, !llvm.ptr data, i64 numel)` and its
    result is replaced by its input. `qopt_observe` is declared private
    here and resolved at JIT time against the process (the calibration
    collector).
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptQuantizeStaticPass : Pass<"qopt-quantize-static", "ModuleOp"> {
  let summary = "Static w8a8: calibrated per-tensor activation scales, int8 per-channel weights";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` rhs, an lhs of rank
    >= 2 and the attributes `qopt.act_scale` (f32) / `qopt.act_zp` (integer;
    attached by the calibration driver, so the rewrite replays from IR)
    becomes `qopt.quantize(x, s_x, z_x)` (i8; u8 with `act-scheme=asym`) ->
    `qopt.qmatmul` with the weight quantized to int8 per output channel
    (symmetric, zero point 0, lib/Transforms/QuantMath.cpp) -> an f32
    epilogue `qopt.dequantize(acc, s_x * s_w[n], 0)` along the last axis.
    Matmuls without `qopt.act_scale`, or whose layer / weight name matches
    `exclude` (regex, searched), stay f32. The qmatmul keeps the matmul's
    attributes and gets `qopt.quant = "w8a8"`.
  }];
  let options = [
    Option<"actScheme", "act-scheme", "std::string", /*default=*/"\"sym\"",
           "sym (i8, zero point 0) | asym (u8 with zero point)">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "regex of layer / weight names to keep in f32">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptGPTQPass : Pass<"qopt-gptq", "ModuleOp"> {
  let summary = "GPTQ weight quantization from calibration Hessians";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` weight and a
    `qopt.hessian` attribute (f32 `[K, K]` = 2/M X^T X of its input over
    the calibration rows, attached by the calibration driver,
    lib/Calibration/LLMDriver.cpp) gets GPTQ-quantized weights (Frantar et
    al. 2022): dampening `damp * mean(diag H)`, the upper Cholesky factor
    of H^-1, rows of W (the paper's columns) quantized in order with their
    error pushed onto the remaining rows, lazy updates per `block-size`
    rows. Groups of `group-size` rows get their scale when the group is
    entered; `act-order` quantizes rows by decreasing diag(H) with static
    groups (computed up front, so groups stay contiguous along K). The
    result is the same `qopt.dequantize(Wq, s, zp)` as
    qopt-quantize-weights (w4 per group / w8 per channel), so lowering and
    kernels are unchanged. `rtn` quantizes round-to-nearest instead (the
    baseline, and what --bias-correction / --mixed-precision use alone).
    `clip` searches each group's range-shrink ratio in {1, 0.95, ..., 0.5}
    on the output error of its rows (the diagonal block of H) when the
    group's scale is set (the reference implementation's MSE grid).

    A layer's `qopt.weight_bits` (4, 8; 32 = keep f32) overrides `bits`.
    The Hessian is removed; the matmul records the relative output error
    tr(dW^T H dW) / tr(W^T H W) of the result (`qopt.out_err`) and of
    round-to-nearest (`qopt.rtn_out_err`).
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"4", "weight bits: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "rows of K per scale for bits=4 (0: per output channel)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"sym\"",
           "sym | asym">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "quantize rows by decreasing Hessian diagonal (static groups)">,
    Option<"damp", "damp", "double", /*default=*/"0.01",
           "dampening: fraction of the mean Hessian diagonal">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "rows per lazy batch update">,
    Option<"rtn", "rtn", "bool", /*default=*/"false",
           "round to nearest instead of GPTQ">,
    Option<"clip", "clip", "bool", /*default=*/"false",
           "search each group's range-shrink ratio on its output error">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptReconstructPass : Pass<"qopt-reconstruct", "ModuleOp"> {
  let summary = "Layer-wise reconstruction: tune the rounding and group scales of quantized weights on calibration data";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` weight and a
    `qopt.hessian` attribute (as for qopt-gptq) is quantized on the grid of
    qopt-gptq (w4 per group / w8 per channel, sym or asym), starting from
    round-to-nearest (`init=rtn`; with `clip`, AWQ's per-group range
    search first) or from GPTQ (`init=gptq`, with `act-order`, `damp`,
    `clip` as in qopt-gptq). Then the layer's output error on the
    calibration rows, tr(dW^T H dW), is minimised without gradients
    through the model: `iters` sweeps of cyclic coordinate descent set each
    integer in turn to the exact minimiser of the quadratic given the
    others (any value of the integer range, not only floor / ceil), rows
    in blocks of 128 with lazy updates of H dW; with `scales`, after every
    second sweep each group's scale is refitted in closed form for its
    integers (s = a^T (H_gg w_g - r) / a^T H_gg a; zero points stay).
    The descent runs on H + `recon-damp` * mean(diag H) * I: on llama-tiny
    the dampening leaves the calibration error as it is but generalises
    (w4 asym from GPTQ: +1.30 % bpb undamped, +0.96 % at 0.1). Every step
    is an exact minimisation, so the error does not grow; the start is
    kept unless the result's f32 error under the undamped H is lower.

    A layer's `qopt.weight_bits` (4, 8; 32 = keep f32) overrides `bits`.
    The Hessian is removed; the matmul records the relative output error of
    the result (`qopt.out_err`), of the start (`qopt.start_out_err`) and of
    round-to-nearest (`qopt.rtn_out_err`); `verbose` prints one line per
    layer to stderr.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"4", "weight bits: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "rows of K per scale for bits=4 (0: per output channel)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"sym\"",
           "sym | asym">,
    Option<"iters", "iters", "int64_t", /*default=*/"8",
           "coordinate-descent sweeps over all rows">,
    Option<"init", "init", "std::string", /*default=*/"\"rtn\"",
           "start: rtn | gptq">,
    Option<"scales", "scales", "bool", /*default=*/"true",
           "refit each group's scale in closed form">,
    Option<"reconDamp", "recon-damp", "double", /*default=*/"0.1",
           "descend on H + recon-damp * mean(diag H) * I">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "init=gptq: rows by decreasing Hessian diagonal">,
    Option<"damp", "damp", "double", /*default=*/"0.01",
           "init=gptq: dampening, fraction of the mean Hessian diagonal">,
    Option<"clip", "clip", "bool", /*default=*/"false",
           "search each group's range on its output error for the start">,
    Option<"verbose", "verbose", "bool", /*default=*/"false",
           "one progress line per layer on stderr">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptAWQPass : Pass<"qopt-awq", "ModuleOp"> {
  let summary = "AWQ: activation-aware per-input-channel weight scaling + clipping";
  let description = [{
    Matmuls with a constant f32 `[K, N]` weight, `qopt.hessian` and
    `qopt.act_mean_abs` (f32 `[K]`, mean |x| per input channel) are
    grouped by their input value (q/k/v, gate/up share one). Per group, the
    scales s = mean|x|^alpha / sqrt(max * min), alpha in {0, 1/20, ...,
    19/20}, are chosen to minimise the summed output error of
    `(x / s) Q(diag(s) W)` on the calibration data (computed from H, so no
    activations are stored; alpha = 0 is plain round-to-nearest). The
    weights become diag(s) W; 1/s is folded into the constant vector of a
    producing elementwise multiply (RMSNorm/LayerNorm weight) when the
    group is its only user, else a broadcast multiply is inserted on the
    input (elementwise fusion merges it with its producer). Then, per group
    of `group-size` rows and output channel, the range-shrink ratio in
    {1, 0.95, ..., 0.5} with the least output error is searched and the
    weight is quantized round-to-nearest with it.

    `scale-only` stops after the scaling and rewrites `qopt.hessian` for
    the scaled input (diag(1/s) H diag(1/s)), for qopt-gptq to quantize
    (AWQ + GPTQ). The layer records `qopt.awq_alpha` and `qopt.awq_scale`
    (s), and like qopt-gptq `qopt.out_err` / `qopt.rtn_out_err`.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"4", "weight bits: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "rows of K per scale for bits=4 (0: per output channel)">,
    Option<"scheme", "scheme", "std::string", /*default=*/"\"sym\"",
           "sym | asym">,
    Option<"scaleOnly", "scale-only", "bool", /*default=*/"false",
           "only scale (for qopt-gptq to quantize)">,
    Option<"clip", "clip", "bool", /*default=*/"true",
           "search the clipping ratio per group">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptBiasCorrectionPass : Pass<"qopt-bias-correction", "ModuleOp"> {
  let summary = "Bias correction: remove the mean output shift weight quantization causes";
  let description = [{
    Every `qopt.matmul` whose weight is `qopt.dequantize` of constants and
    that carries `qopt.act_mean` (f32 `[K]`, E[x] of its input over the
    calibration data) and `qopt.out_mean` (f32 `[N]`, E[x W] of the FP32
    layer on the same inputs) gets `y - (E[x] Wq - E[x W])` per output
    channel: a broadcast add of a constant `[N]` after the matmul (a bias
    where there was none). The attributes are removed.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptSmoothQuantPass : Pass<"qopt-smoothquant", "ModuleOp"> {
  let summary = "SmoothQuant: move activation outliers into the weights (per input channel)";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` weight and a
    `qopt.act_absmax` attribute (f32 tensor<K>: max|x| per input channel
    from calibration) is rewritten as `(x / s) (s W)` with
    `s_k = max|x_k|^alpha / max|W_k|^(1-alpha)`. Matmuls reading the same
    input share s (max|W_k| over all of their weights). `x / s` is folded
    into the norm that produces x when x is the channel-wise affine tail of
    an RMSNorm / LayerNorm (`x * gamma [+ beta]` as linalg.generic with
    constant [K] vectors) used only by the group: gamma / s, beta / s;
    otherwise an elementwise `x / s` is inserted in front of the matmuls
    (the lowering fuses it into the activation quantization). A
    `qopt.smooth_alpha` attribute on a matmul (the `auto` search of
    qopt-compile) overrides `alpha` for its group. The statistics
    attribute is consumed, so the pass is idempotent; smoothed matmuls
    record `qopt.smooth_alpha` and `qopt.smooth_fold = "norm"|"input"`.
    Runs before qopt-quantize-static / qopt-quantize-dynamic.
  }];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "migration strength in [0, 1]">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "regex of layer / weight names to leave alone">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptLLMInt8Pass : Pass<"qopt-llm-int8", "ModuleOp"> {
  let summary = "LLM.int8(): outlier input channels through an f32 matmul, the rest int8";
  let description = [{
    Every `qopt.matmul` with a constant f32 `[K, N]` weight, a static-shape
    input and a `qopt.act_absmax` attribute (max|x| per input channel from
    calibration) is split on the channels O whose max|x| exceeds
    `threshold`: `y = matmul(x * mask, W_in) + matmul(matmul(x, P), W_out)`,
    where mask zeroes the channels O, W_in is W with rows O zeroed (the
    part the later w8a8 quantizer turns into int8), P `[K, |O|]` selects
    x's outlier columns exactly and W_out `[|O|, N]` holds W's rows O. The
    two f32 matmuls carry `qopt.keep_f32` (no quantizer touches them).
    Matmuls reading one input share the mask and the selection. Each
    matmul records `qopt.outlier_channels = |O|`; without outliers it is
    unchanged. The statistics attribute is consumed (idempotent).
  }];
  let options = [
    Option<"threshold", "threshold", "double", /*default=*/"6.0",
           "outlier channels: calibration max|x| above this">,
    Option<"exclude", "exclude", "std::string", /*default=*/"\"\"",
           "regex of layer / weight names to leave alone">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptSpecializeDynamicRowsPass
    : Pass<"qopt-specialize-dynamic-rows", "func::FuncOp"> {
  let summary = "Matmuls with run-time row counts as static-shape matmuls";
  let description = [{
    On the qopt graph, before quantization. The kernels (packed f32 panels,
    int8/int4 microkernels) and the quantizers work on static shapes; a
    model compiled once for any batch and sequence has `qopt.matmul`s whose
    rows are `?`. Each `qopt.matmul` of an f32 input `[d0, .., ?, K]` (K
    static) and a static `[K, N]` weight gets its rows collapsed to
    `[M, K]` and computed as

      scf.if M == 1: a [1, K] x [K, N] matmul (decode's GEMV)
      else: an scf.forall over the M / chunk full chunks of rows, and the
            remaining rows zero-padded to one more chunk,

    then expanded back. The matmuls reading one input share the structure
    when their N differ (equal-N ones get one each: their zero-filled
    inits would CSE into one buffer that the packed kernel writes twice). Every row
    of the result is the plain matmul's row: bit-identical for f32 and for
    per-row (per-token) or static activation quantization. Per-tensor
    dynamic quantization would see one chunk at a time, so the pipeline
    does not run this pass for `--act-granularity=tensor` (those matmuls
    stay f32).
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"32",
           "rows per static matmul in the M > 1 path">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptFoldRepeatKVPass : Pass<"qopt-fold-repeat-kv", "func::FuncOp"> {
  let summary = "Grouped-query attention without materialized K/V repeats";
  let description = [{
    On the qopt graph. Exporters write grouped-query attention (G key/value
    heads, each shared by R query heads) with Transformers' repeat_kv:
    Unsqueeze + Expand + Reshape, which convert-onnx-to-qopt turns into a
    linalg.generic broadcasting `[b, G, T, D]` to `[b, G, R, T, D]` and a
    reshape to `[b, G*R, T, D]` (a collapse_shape, or a collapse to 1-D +
    tensor.reshape on run-time dims). Each `qopt.matmul` of a rank-4 lhs
    `[b, G*R, s, K]` and such a repeat (PV), or its transpose [0, 1, 3, 2]
    (QK^T), with a result that has run-time dims (KV decoders), becomes

      lhs viewed as [b, G, R*s, K]  x  the G heads (transposed for QK^T)
      -> [b, G, R*s, N] viewed back as [b, G*R, s, N]

    (expand_shape / collapse_shape only). The repeat is then dead: a decode
    step no longer writes and reads R copies of every cache. The same dot
    products; the kernel sees R*s rows instead of s (its summation order may
    differ). Batch dims that broadcast and static results are left alone.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // QOPT_TRANSFORMS_PASSES
