//===- Passes.td - qopt code generation passes -------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_CODEGEN_PASSES
#define QOPT_CODEGEN_PASSES

include "mlir/Pass/PassBase.td"

def QOptRecordABIPass : Pass<"qopt-record-abi", "ModuleOp"> {
  let summary = "Record the model's I/O signature as the `qopt.abi` module attribute";
  let description = [{
    Runs on the tensor-level function (before bufferization changes its
    signature). Reads each argument/result's `qopt.name`, `qopt.dtype`,
    shape and `qopt.dim_names` (one ONNX dim_param per dim, "" for none)
    and the module's `qopt.dim_max` (dim name -> bound) and stores the ABI
    description (docs/abi.md) as a string attribute on the module: version
    1 when every shape is static, version 2 (`?` / named dims, `dim` lines,
    `entry dynamic`) otherwise.

    Also gives every result its own tensor: a value returned more than once
    (two graph outputs that are the same tensor after folding/CSE) is
    copied through a
    `bufferization.alloc_tensor`, so that results-to-out-params sees
    distinct buffers. Rejects I/O tensors of more than 2^47 bytes (the
    x86-64 user address space).
  }];
  let dependentDialects = ["bufferization::BufferizationDialect"];
}

def QOptKVCacheInPlacePass : Pass<"qopt-kv-cache-in-place", "ModuleOp"> {
  let summary = "KV-cache decoder: past inputs become caches updated in place";
  let description = [{
    On the tensor-level entry function, before qopt-record-abi. For each
    input `past_key_values.X` whose output `present.X` is the concatenation
    of the input and the new tokens' keys/values along a dynamic axis (the
    Hugging Face Optimum layout): the input becomes a cache buffer whose
    axis is its capacity (dim name `kv_capacity`), the new rows are
    inserted at the past length in place, and the attention reads the
    filled prefix of the buffer. The `present.X` output is dropped: no
    copy of the cache per call. The past length is the present length
    (an input's dim, e.g. `attention_mask`'s `total_sequence_length`)
    minus the new length; `qopt.kv_cache` on the argument records the
    names, and qopt-record-abi writes a `cache` line for it (docs/abi.md).

    `mode=auto` rewrites a model that follows the naming and leaves any
    other unchanged; `inplace` fails with a message on one that does not;
    `copy` does nothing.

    `mode=int8` (like `inplace`, an error on a model that does not follow
    the layout): each cache is stored as int8 rows with one f32 scale per
    row (batch, head, position), symmetric over the last dim (head_dim):
    the input becomes i8 and a new input `past_key_values.X.scale`
    (`[.., kv_capacity, 1]`, f32, its own `cache` line naming the same
    present) holds the scales. The new rows are quantized as
    qopt.dynamic_quantize {symmetric, per_row} (docs/semantics.md §4, §11)
    and inserted into both; the present is the dequantized prefix
    (`f32(q) * scale`), fused into the generics that read it, so the
    attention contractions read the int8 rows directly.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"auto\"",
           "auto | inplace | copy | int8">,
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect"];
}

def QOptExternalizeWeightsPass : Pass<"qopt-externalize-weights", "ModuleOp"> {
  let summary = "Move large constant memref.globals into a sidecar weights blob";
  let description = [{
    After bufferization: every constant memref.global larger than
    `threshold` bytes is removed and its uses become memref.view slices of a
    new last entry argument `memref<SIZExi8>` (64-byte aligned offsets), so
    LLVM never sees megabytes of constants. With `weights-file`, the blob is
    written there (atomically).
  }];
  let options = [
    Option<"threshold", "threshold", "int64_t", /*default=*/"1024",
           "Globals larger than this many bytes go to the sidecar">,
    Option<"weightsFile", "weights-file", "std::string", /*default=*/"\"\"",
           "Where to write the weights blob (empty: keep it in memory only)">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptSplitFillInitsPass : Pass<"qopt-split-fill-inits", "func::FuncOp"> {
  let summary = "Give each destination use of a filled tensor.empty its own fill";
  let description = [{
    Before bufferization: a `linalg.fill` of a `tensor.empty` used as the
    destination (DPS init, `scf.forall` shared_outs) of several ops, one of
    which has a result inserted into a slice (`tensor.insert_slice`,
    `tensor.parallel_insert_slice`), is cloned, with its empty, for each
    such use but one (all of them when the fill is also read). Works around eliminate-empty-tensors +
    one-shot bufferization letting one consumer compute in place in a slice
    that another result's parallel_insert_slice overwrites first (wrong
    results; lib/Codegen/SplitFillInits.cpp). Each consumer then gets its
    own in-place init instead of a copy.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QOptEntryResultsPass : Pass<"qopt-entry-results", "ModuleOp"> {
  let summary = "Bufferized results: out-params, or caller-owned buffers for a dynamic entry";
  let description = [{
    After one-shot bufferization. For a static-shaped entry function this is
    `buffer-results-to-out-params{hoist-static-allocs modify-public-functions}`
    (results become trailing out-params). When the entry (`qopt.entry_func`,
    default `main`) has a dynamic dim in its signature, the entry keeps its
    memref results (other functions are still converted) and each result
    becomes a heap allocation the caller owns and frees: a result that
    aliases an argument, a global, a stack buffer or an earlier result is
    copied into a fresh `memref.alloc`. These allocations carry no
    `alignment`, so the pointer to free is the data pointer (docs/abi.md).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def QOptFuncToLLVMPass : Pass<"qopt-func-to-llvm", "ModuleOp"> {
  let summary = "convert-func-to-llvm: bare pointers, or descriptors for a dynamic entry";
  let description = [{
    Runs `convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}` when the
    entry function's signature is static-shaped, plain `convert-func-to-llvm`
    (unpacked memref descriptors in, descriptor structs out) when it has a
    dynamic dim: qopt-emit-entry then builds `qopt_entry_dyn` around it.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def QOptEmitEntryPass : Pass<"qopt-emit-entry", "ModuleOp"> {
  let summary = "Add the `qopt_entry(void **args)` wrapper and ABI metadata global";
  let description = [{
    Runs on the LLVM dialect. `qopt_entry` loads one pointer per input,
    output and the weights blob from its argument array and calls the model
    function (bare-pointer convention); `qopt_model_abi` is a NUL-terminated
    copy of the `qopt.abi` module attribute that the runtime parses.

    For `entry dynamic` in the ABI (some dim is dynamic) the model function
    takes memref descriptors and returns its results' descriptors; the pass
    adds `qopt_entry_dyn(in_data, in_dims, out_alloc, out_data, out_dims,
    weights)`, which builds row-major input descriptors from the data
    pointers and the run-time dims and writes each result's allocation,
    data pointer and dims, and a `qopt_entry(void **args)` taking those six
    pointers as an array (docs/abi.md).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def QOptMemRefCopyToLinalgPass : Pass<"qopt-memref-copy-to-linalg", "ModuleOp"> {
  let summary = "Turn strided memref.copy ops into linalg.copy";
  let description = [{
    After bufferization: `memref.copy` between buffers that are not both
    identity-layout (e.g. subviews from tensor.insert_slice) would lower to a
    call to the `memrefCopy` runtime helper of mlir_c_runner_utils. This pass
    rewrites them to `linalg.copy`, which becomes plain loops. Contiguous
    copies stay memref.copy (lowered to llvm.memcpy). A static copy whose
    rows are contiguous on both sides (innermost stride 1) and a multiple
    of 128 bits becomes scf.parallel over the outer dims with a loop of
    vector.transfer_read/write over each row instead (vector loads and
    stores rather than scalar ones).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptInlineAllocaScopesPass : Pass<"qopt-inline-alloca-scopes", "ModuleOp"> {
  let summary = "Inline memref.alloca_scope ops that contain no alloca";
  let description = [{
    convert-scf-to-openmp wraps each parallel loop body in a
    memref.alloca_scope; once the body's scf.for loops are lowered to cf
    blocks the single-block scope is invalid. Loop bodies produced by
    convert-linalg-to-*loops hold no allocas, so the scope is inlined.
  }];
}

def QOptFuseElementwisePass : Pass<"qopt-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers into all-parallel consumers only";
  let description = [{
    Upstream linalg elementwise fusion with a cost guard: a producer is fused
    only into a consumer without reduction loops and only when the producer
    has a single use. Fusing into a reduction (e.g. RoPE into the QK^T
    contraction) would recompute the producer once per reduction step, and
    matmuls must stay recognizable (named) for tiling and quantization.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def QOptTileAndVectorizePass : Pass<"qopt-tile-and-vectorize", "func::FuncOp"> {
  let summary = "Tile matmul-like linalg ops to a register tile and vectorize them";
  let description = [{
    On tensors, before bufferization. Every static f32 or i32 (the int8
    qmatmul after extension) linalg.matmul / linalg.batch_matmul whose
    dimensions divide the register tile is tiled
    with scf.forall over (batch, M, N) tiles of `tile-m` x `tile-n` (the
    threads' work items), then with scf.for over K in steps of `tile-k`, and
    the innermost tile becomes vector.transfer_read + vector.contract +
    vector.transfer_write; the accumulator's read/write pair is hoisted out
    of the K loop (a vector iter_arg: registers). qopt-lower-vectors later
    lowers the contraction to FMAs.

    A 2-D matmul whose weights [K, N] are a constant gets them packed at
    compile time into column panels [N/tile-n, K, tile-n], and its forall
    runs over (panels, row blocks), panels outermost: each tile reads one
    contiguous panel, which stays in L2 while all row blocks pass, so the
    weights are read from memory once. Weights computed by an elementwise
    generic used only by the matmul (the w8/w4 weight-only dequantization)
    get the same panels: the generic is rebuilt to write them directly.
    The result is bit-identical (the same K order per element).

    The default 8x32 f32 tile is 16 zmm accumulators on AVX-512. Packed
    f32 weights use panels of `panel-n` (64) columns and 256/`panel-n` (4)
    rows per tile, the same 16 accumulators with fewer loads per FMA, and
    the K loop prefetches the next panel (spread over the row blocks) so
    that no row block waits for a panel from memory. A work item is one
    panel and a group of row blocks, looping over K blocks of 128 rows (a
    32 KiB panel block stays in L1 while the group's row blocks pass);
    the prefetch then targets the next K block.

    Also: f32 max/min reductions over the innermost dim (at most 8192 wide;
    the dynamic activation quantization's range, softmax's max) are tiled to
    one row per scf.forall iteration and become one vector.reduction per
    row. Max/min are exact in any order, so results do not change; sums are
    left alone (their f32 result depends on the order).
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", /*default=*/"8", "rows per register tile">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"32", "columns per register tile">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"4", "reduction step">,
    Option<"panelN", "panel-n", "int64_t", /*default=*/"64",
           "columns per weight panel (packed f32 weights; 256/panel-n rows "
           "per register tile)">,
    Option<"prefetch", "prefetch", "bool", /*default=*/"true",
           "prefetch the next weight panel in the packed f32 K loop">,
    Option<"prefetchLocality", "prefetch-locality", "unsigned", /*default=*/"3",
           "locality hint of that prefetch (3: L1, 2: L2)">,
    Option<"packWeights", "pack-weights", "bool", /*default=*/"true",
           "pack constant [K, N] weights into column panels (off where the "
           "weights are found and replaced by their bytes later: the "
           "calibration builds)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def QOptArenaPass : Pass<"qopt-arena", "ModuleOp"> {
  let summary = "Place a function's temporary buffers in one static arena";
  let description = [{
    After buffer deallocation, on memrefs. Every static-shaped
    memref.alloc in a function's entry block whose single memref.dealloc is
    also there gets an offset in one arena, by live range (alloc..dealloc):
    buffers whose ranges do not overlap share bytes (greedy, largest first,
    64-byte aligned), so the working set stays small and hot in cache. The
    alloc becomes a memref.view of the arena and the dealloc goes away.

    The arena is a zero-initialized private memref.global (.bss): its pages
    are faulted in on the first run and reused afterwards. (Per-run malloc
    of large buffers is mmap/munmap in glibc: every run paid the page faults
    again, ~40 % of llama-tiny's run time once the loops were vectorized.)
    Runs of one model may be concurrent (qopt_run takes a const model): a
    run takes the static arena with an atomic exchange on a flag and gives
    it back at return; a run that finds it taken mallocs its own arena for
    that run. An arena over 1 GiB is not static (a .bss past 2 GB is out of
    reach of the small code model's 32-bit PC-relative relocations): it is
    malloc'ed at entry and freed at every return (`max-static-bytes`; JIT
    builds use 0).
  }];
  let options = [
    Option<"maxStaticBytes", "max-static-bytes", "int64_t",
           /*default=*/"int64_t(1) << 30",
           "largest arena kept static; larger ones are malloc'ed per run">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptLowerVectorsPass : Pass<"qopt-lower-vectors", "func::FuncOp"> {
  let summary = "Hoist accumulators out of K loops and lower vector.contract to FMAs";
  let description = [{
    After bufferization: redundant vector.transfer_read/write pairs on the
    accumulator are hoisted out of their scf.for (so it stays in registers),
    then vector.contract is lowered through vector.outerproduct to vector.fma
    and transfers to plain vector loads/stores/broadcasts, ready for
    convert-vector-to-llvm.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect"];
}

def QOptStripObserversPass : Pass<"qopt-strip-observers"> {
  let summary = "Replace every qopt.observe by its input";
  let description = [{
    For builds that do not calibrate: the calibration probes
    (`qopt.observe`, docs/semantics.md §6) are removed and their results
    replaced by their inputs. convert-qopt-to-linalg leaves them alone.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
}

def QOptPackQMatMulPass : Pass<"qopt-pack-qmatmul", "ModuleOp"> {
  let summary = "Pack constant int8 qmatmul weights into the target's microkernel layout";
  let description = [{
    Before qopt -> linalg. On targets whose description (qopt/Codegen/
    TargetDesc.h) has an exact int8 dot instruction, every `qopt.qmatmul`
    with a constant signed 8-bit weight `[K, N]` (or int4 values stored two
    per byte behind `qopt.unpack_int4`), a zero weight zero point,
    an 8-bit activation (0-D or per-row zero point), K a multiple of the dot's
    K group G and N a multiple of the vector's i32 lanes L becomes

      * an elementwise generic: the initial accumulators, the zero-point
        compensation `-(za[m] (+128 for s8)) * colsum[n]` (the weight column
        sums are a compile-time constant), and
      * the int8 dot generic over the activations `[M, K]` (batch dims folded
        into M) and the weights packed at compile time to `[N/P, K/G, P, G]`
        (the VNNI / sdot / vpmaddwd layout; P = the register tile's NRV*L
        columns when N is a multiple of them, so a tile reads one contiguous
        stream, else L):
        `out[m, n] += extui(a[m, k] (^ 0x80 for s8)) * extsi(w[k, n])`,

    together exactly the qmatmul they replace (docs/semantics.md §5). The
    dot generic lowers to plain loops, or with qopt-lower-ukernels to the
    microkernel. Other qmatmuls keep the portable path.

    On AVX-512 (vpdpbusd on zmm) the grouped w4a8 matmul of
    qopt-quantize-dynamic (a batched qmatmul of the transposed activation
    groups `[G, M, gs]` with int4-range weights `[G, gs, N]`, gs a multiple
    of 8, and its f32 epilogue `y = sum_g (f32(acc) * sx) * sw[g]`) becomes
    an int4 dot generic over the `[M, K]` activations and the weights packed
    two nibbles per byte (+8 bias) as `[N/L, G, gs/8, L, 4]`, and the
    epilogue with the zero-point compensation per group (lib/Codegen/
    GroupedInt4.cpp): the same integers and f32 operations as before.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "--target name (qopt/Codegen/TargetDesc.h)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptLowerUkernelsPass : Pass<"qopt-lower-ukernels", "ModuleOp"> {
  let summary = "Lower int8 dot linalg.generics to register-tiled microkernels";
  let description = [{
    After bufferization. Each int8 dot generic of qopt-pack-qmatmul (matched
    by its structure for this target's L and G) becomes an scf.parallel over
    the NRV*L-column weight panels and M blocks (an N remainder panel gets a
    second one); in it an scf.for over K blocks and in that an scf.for over
    the block's MR-row register tiles, the M remainder rows last (same
    panel, still in cache). K blocks keep a tile's MR activation rows in
    L1 and the panel's block in L2; M blocks are sized for L2 (cache sizes
    from the target description); with one K block the loop folds away.
    A tile loads its MR*NRV i32 accumulator vectors from the output
    (the compensation), runs the K loop with them in registers issuing the
    target's dot instruction through `llvm.call_intrinsic` (AVX-512:
    `llvm.x86.avx512.vpdpbusd.512`, u8 x s8; s8 activations are flipped with
    an xor), and stores them. A zero linalg.fill of the output right before
    is dropped (the first K block starts at zero, later ones continue from
    the output: exact i32 sums); so is an elementwise generic right before
    that computes the output's initial value from row, column and scalar
    operands (the zero-point compensation, left unvectorized by
    qopt-tile-and-vectorize): the first K block evaluates it in registers
    instead of an M x N pass through memory. Likewise an elementwise
    generic right after that reads the finished output into an f32 buffer
    (the dequantization f32(acc) * row scale * column scale, also left
    unvectorized), when the output is only overwritten or freed after it:
    the last K block applies it to the accumulators and stores f32 vectors
    to its buffer, the i32 output is not stored (not for smmla's 2x2
    accumulator layout). MR, NRV, L, G, the cache sizes and the
    intrinsic come from the target description. Weights packed in panels
    of the whole tile ([N/(NRV*L), K/G, NRV*L, G]) are read as one
    contiguous stream per K step. On AVX2 without VNNI (`vpmaddwd`) the
    activations are first widened to i16 into a new buffer (sign- or
    zero-extended as the dot generic reads them; no flip), each weight load
    is sign-extended, and vpmaddwd's exact i32 pair sums are added to the
    accumulators.

    The grouped int4 pair (int4 dot generic -> i32 [G, M, N] -> epilogue)
    becomes one kernel without the [G, M, N] buffer: 4 x 3 zmm tiles (fewer
    rows: 1-3 x 4 or 3), f32 y and one group's i32 sums in registers; per
    group the sums start at the compensation, each 64-byte weight load is
    unpacked (`& 15`, `>> 4`, `- 8`) into two K-quads for vpdpbusd, then
    `y += (f32(sum) * sx) * sw[g]` (the epilogue's operations in its order:
    bit-identical). Runs before qopt-arena, so the dropped buffer takes no
    arena space.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "--target name (qopt/Codegen/TargetDesc.h)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::amx::AMXDialect"];
}

def QOptParallelizeHeadsPass : Pass<"qopt-parallelize-heads", "func::FuncOp"> {
  let summary = "Run attention's per-head op chain as one scf.forall over the heads";
  let description = [{
    Seeds are qopt.matmul ops whose operands are both computed (attention's
    QK^T and PV) with a batch dim > 1, the head dim (the innermost such
    batch dim). From them the chain grows through producers and users that
    can run one head at a time: linalg ops whose head loop is parallel and
    appears as a plain dim in each operand (or not at all: a broadcast
    operand, e.g. RoPE's tables or the mask, is used whole), qopt.matmul
    over the batch dims, and tensor.extract_slice / insert_slice that take
    the whole head dim. It stops at reshapes (the split of the projection
    into heads and the merge back).

    The chain becomes one scf.forall over the heads placed after its last
    op. Each op is cloned with the head dim of its tensors shrunk to 1
    (indexing maps and bodies unchanged); inputs from outside the chain are
    sliced at head h (tensor.empty inputs are recreated per head), and each
    value used after the chain is written back with
    tensor.parallel_insert_slice. The same scalar operations run in the
    same order: results are bit-identical. A chain whose values are used
    by an op placed between its ops is left as it is.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptParallelizeRowsPass : Pass<"qopt-parallelize-rows", "func::FuncOp"> {
  let summary = "Run the row-wise op chains between matmuls as one scf.forall over row blocks";
  let description = [{
    Seeds are row reductions of the function body (RMSNorm's sum of
    squares, the dynamic quantization's row min/max): linalg.generic ops
    with a reduction loop whose result has a row dim of at least `min-rows`
    rows, divisible by `blocks`. From each the chain grows, as in
    qopt-parallelize-heads (lib/Codegen/ParallelChain.h), through the
    producers and users that are independent across rows: elementwise and
    row-reduction linalg ops, and collapse/expand_shape ops that only add
    or drop unit dims around the rows (1x128x256 <-> 128x256). It never
    takes matmuls, convolutions, microkernel ops (`qopt.ukernel`) or the
    ops computing a microkernel's accumulator init, and stays between two
    of them (the ops of one "segment" of the body).

    Each chain becomes one scf.forall over `blocks` row blocks after its
    last op: its ops run on rows/blocks rows at a time, the values used
    after it are written back with tensor.parallel_insert_slice. The same
    operations run in the same order: results are bit-identical.
  }];
  let options = [
    Option<"blocks", "blocks", "int64_t", /*default=*/"8",
           "row blocks (loop iterations) per chain">,
    Option<"minRows", "min-rows", "int64_t", /*default=*/"16",
           "chains over fewer rows are left as they are">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def QOptSerializeSmallLoopsPass : Pass<"qopt-serialize-small-loops", "ModuleOp"> {
  let summary = "Run scf.parallel loops with little work serially";
  let description = [{
    Before convert-scf-to-openmp, which makes every outermost scf.parallel
    one OpenMP fork/join. llama-tiny's forward pass had 231 of them, most
    over 128 rows of a few hundred elements (fills, row max/min, the RMSNorm
    rsqrt column, transposes): each waited for all threads to get a core,
    which on a loaded machine costs more than the loop. An outermost
    scf.parallel whose estimated work is below the target's
    `minParallelWork` becomes a nest of scf.for (same iterations, same
    order inside each iteration: results are bit-identical). A scf.parallel
    nested in another one always becomes scf.for: OpenMP would run it in one
    thread anyway, after a fork/join per outer iteration.

    The estimate: each op counts one per vector register it spans
    (elements x bit width / the target's vector bits, at least 1), scf.for
    bodies times their constant trip count, times the scf.parallel's trip
    count. A loop with a run-time trip count (sequence lengths) whose
    bounds, and those of the loops inside it, are computed from values
    outside it gets the same estimate as run-time arithmetic before it and
    an scf.if: a serial copy below the threshold, the parallel loop above.
    An inner loop from 0 to an affine bound of the enclosing loops'
    induction variables, step 1 (a peeled vector loop's partial last step)
    counts as 16 trips. Loops with a call or results, or other bounds that
    depend on their own induction variables, stay parallel.

    Between `minParallelWork` and the target's `minParallelWorkOneThread`
    a loop is versioned on `omp_get_max_threads() <= 1` (called once per
    function): with one thread its serial copy runs, since even a
    one-thread parallel region costs its entry. A decode step's GEMVs (a
    1x256x768 fp32 one is 12,288 ops) sit there: split over two threads,
    they took llama-tiny-kv's fp32 decode from ~4,000 to ~5,000 tok/s,
    and serial with one thread they keep its speed. `min-work` and
    `one-thread-work` (>= 0) override the target's thresholds.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "--target name (qopt/Codegen/TargetDesc.h)">,
    Option<"minWork", "min-work", "int64_t", /*default=*/"-1",
           "threshold in vector ops (-1: the target's minParallelWork)">,
    Option<"oneThreadWork", "one-thread-work", "int64_t", /*default=*/"-1",
           "threshold with one thread (-1: the target's "
           "minParallelWorkOneThread)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // QOPT_CODEGEN_PASSES

