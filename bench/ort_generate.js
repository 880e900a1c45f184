// Greedy text generation with ONNX Runtime (onnxruntime-node) on a KV-cache
// decoder in the Hugging Face Optimum `text-generation-with-past` layout:
//   in:  input_ids [b,s] int64, attention_mask [b,past+s] int64,
//        position_ids [b,s] int64, past_key_values.N.{key,value} [b,H,past,D] f32
//   out: logits [b,s,V] f32, present.N.{key,value} [b,H,past+s,D] f32
// Prefill runs the whole prompt with past length 0 (empty [1,H,0,D] tensors),
// then one token per call, each call's present.N.* fed back as
// past_key_values.N.*. Batch 1; several prompts run one after the other.
// Greedy = argmax of the last position's logits, ties to the lowest id.
//
//   node ort_generate.js MODEL.onnx PROMPT [--max-new-tokens 64] [--threads 1]
//        [--output-ids OUT.npy] [--output-logits OUT.npy [--logits-rows 2]]
//        [--check-nocache [MODEL2.onnx]] [--quiet]
//   node ort_generate.js MODEL.onnx --bench [PROMPT] [--threads 1,2] [--reps 10]
//        [--prefill-len 128] [--contexts 128,1024] [--decode-tokens 64]
//        [--warmup 3] [--logits-only]
//
// PROMPT (the bytes / token ids of the prompts), one of:
//   --prompt TEXT                 one prompt, the UTF-8 bytes of TEXT
//   --prompt-ids FILE.npy         [n, L] or [L] int64/int32/uint8: n prompts
//   --prompt-bin FILE --row-len R --prompt-len L [--rows N]
//                                 raw uint8 rows of R bytes (e.g. llama-tiny's
//                                 eval_tokens.bin, R=129); prompt = the first L
//                                 bytes of each of the first N rows
//
// --output-ids writes int64 [n, L + new] (prompt + generated).
// --output-logits writes float32 [r, new + 1, V] for the first r prompts: row 0
//   is the last-position logits of the prefill (the distribution generated
//   token 0 was chosen from), row k (1..new) the logits of decode step k, which
//   fed generated token k-1 (rows 0..new-1 chose the new tokens; row `new` is
//   one extra decode step that feeds the last generated token). Without
//   --output-logits, generation stops after new - 1 decode steps.
// --check-nocache recomputes each prompt's greedy continuation without the
//   cache, running the whole prefix at every step: on MODEL2 if given (its
//   inputs are fed by name: input_ids, and attention_mask / position_ids /
//   empty past if it has them), else on MODEL with empty past; reports whether
//   the bytes are identical (exit status 1 if not).
// --compare-logits MODEL2.onnx [--tol 1e-4] runs each prompt once as a prefill
//   (past 0) on MODEL and on MODEL2 (fed by name as above; e.g. the non-cache
//   export of the same network, whose static input length the prompts must
//   have) and prints the largest |difference| over all positions' logits
//   (exit status 1 if over --tol).
// Non-bench mode prints each continuation (bytes escaped as text when the
// vocab is 256) and a last line `prefill: P tokens, X tok/s; decode: D tokens,
// Y tok/s` (totals over the prompts).
//
// --bench prints JSON lines, medians over --reps repetitions (after warm-up):
//   {"bench":"prefill", tokens: P, ...}: one call with P prompt tokens, past 0.
//   {"bench":"decode", context: C, tokens: N, ...}: prefill C tokens (untimed),
//     then N single-token decode calls (past C .. C+N-1), timed together; the
//     context is the cache length before decoding, as llama-bench's -d depth.
//   {"bench":"decode_logits_only", context: C, ...}: one decode step at past C
//     fetching only logits, repeated reps x N times: the same model work
//     without onnxruntime-node's copy of present.* into JS buffers (a bound
//     for a C/C++ caller that keeps the cache in ORT with I/O binding).
//   --warmup W: untimed prefill calls before the prefill rows (default 3);
//   --logits-only: only the decode_logits_only rows (no "decode" rows, whose
//     reps + 1 prefills of C tokens take long on a large model).
// Each line also carries threads, nproc and the 1-minute load average. The
// bench prompt bytes come from PROMPT (concatenated and repeated as needed), or
// are deterministic pseudo-random bytes without one. Timing includes what
// onnxruntime-node does per call: present.* is copied out of ORT into JS
// buffers and handed back as the next call's past (no I/O binding in node).
const fs = require('fs');
const os = require('os');
const ort = require('onnxruntime-node');

const argv = process.argv.slice(2);
function arg(name, def) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
}
function flag(name) { return argv.includes(name); }

// ---- .npy I/O (little-endian, C order) ----
function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hoff = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hoff, hoff + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1]
    .split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = buf.subarray(hoff + hlen);
  const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const types = { '|u1': Uint8Array, '<i4': Int32Array, '<i8': BigInt64Array, '<f4': Float32Array };
  if (!types[descr]) throw new Error(`${path}: unsupported dtype ${descr}`);
  return { shape, data: new types[descr](ab) };
}

function writeNpy(path, descr, shape, typed) {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  const tmp = path + '.tmp';
  fs.writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, path);
}

// ---- prompts: array of arrays of Number token ids ----
function loadPrompts() {
  if (arg('--prompt') !== undefined) return [Array.from(Buffer.from(arg('--prompt'), 'utf8'))];
  if (arg('--prompt-ids')) {
    const { shape, data } = readNpy(arg('--prompt-ids'));
    const [n, L] = shape.length === 1 ? [1, shape[0]] : shape.length === 2 ? shape : [0, 0];
    if (!n) throw new Error('--prompt-ids: expected shape [n, L] or [L]');
    const out = [];
    for (let r = 0; r < n; r++) out.push(Array.from(data.subarray(r * L, (r + 1) * L), Number));
    return out;
  }
  if (arg('--prompt-bin')) {
    const buf = fs.readFileSync(arg('--prompt-bin'));
    const R = parseInt(arg('--row-len', '0'));
    const L = parseInt(arg('--prompt-len', String(R)));
    if (!(R > 0) || !(L > 0) || L > R) throw new Error('--prompt-bin needs --row-len R and --prompt-len L <= R');
    const rows = parseInt(arg('--rows', String(Math.floor(buf.length / R))));
    if (rows * R > buf.length) throw new Error(`--prompt-bin: file has fewer than ${rows} rows of ${R} bytes`);
    const out = [];
    for (let r = 0; r < rows; r++) out.push(Array.from(buf.subarray(r * R, r * R + L)));
    return out;
  }
  return null;
}

// ---- the model's cache layout ----
function kvLayout(sess, model) {
  const pairs = [];
  for (const name of sess.inputNames) {
    const m = /^past_key_values\.(\d+)\.(key|value)$/.exec(name);
    if (!m) continue;
    const out = `present.${m[1]}.${m[2]}`;
    if (!sess.outputNames.includes(out))
      throw new Error(`${model}: input ${name} has no matching output ${out} (Optimum naming)`);
    pairs.push([name, out]);
  }
  const meta = {};
  for (const m of sess.inputMetadata || []) meta[m.name] = m.shape;
  let H = 0, D = 0;
  if (pairs.length) {
    const shp = meta[pairs[0][0]];
    if (shp && typeof shp[1] === 'number' && typeof shp[3] === 'number') [H, D] = [shp[1], shp[3]];
    H = parseInt(arg('--heads', String(H)));
    D = parseInt(arg('--head-dim', String(D)));
    if (!(H > 0 && D > 0)) throw new Error(`${model}: cannot tell heads/head_dim of the cache; pass --heads --head-dim`);
  }
  if (!sess.outputNames.includes('logits')) throw new Error(`${model}: no output named logits`);
  return { pairs, H, D, inputs: sess.inputNames };
}

function i64(arr) { const t = new BigInt64Array(arr.length); for (let i = 0; i < arr.length; i++) t[i] = BigInt(arr[i]); return t; }

// Feeds for one call: `ids` new tokens after a cache of `past` tokens.
function feeds(lay, ids, past, cache) {
  const s = ids.length;
  const f = {};
  for (const name of lay.inputs) {
    if (name === 'input_ids') f[name] = new ort.Tensor('int64', i64(ids), [1, s]);
    else if (name === 'attention_mask') f[name] = new ort.Tensor('int64', new BigInt64Array(past + s).fill(1n), [1, past + s]);
    else if (name === 'position_ids') {
      const p = new BigInt64Array(s); for (let i = 0; i < s; i++) p[i] = BigInt(past + i);
      f[name] = new ort.Tensor('int64', p, [1, s]);
    } else if (/^past_key_values\./.test(name)) {
      f[name] = cache ? cache[name] : new ort.Tensor('float32', new Float32Array(0), [1, lay.H, 0, lay.D]);
    } else throw new Error(`unexpected model input ${name}`);
  }
  return f;
}

function argmax(a, off, n) {
  let best = off;
  for (let i = off + 1; i < off + n; i++) if (a[i] > a[best]) best = i;
  return best - off;
}

// top-1 minus top-2 logit: how far greedy's choice is from a tie.
function margin(a, off, n, best) {
  let second = -Infinity;
  for (let i = off; i < off + n; i++) if (i - off !== best && a[i] > second) second = a[i];
  return a[off + best] - second;
}

function lastLogits(out) {
  const L = out.logits;
  const V = L.dims[L.dims.length - 1];
  const s = L.dims[1];
  return { V, data: L.data, off: (s - 1) * V };
}

function now() { return process.hrtime.bigint(); }
function ms(t0, t1) { return Number(t1 - t0) / 1e6; }

// Greedy generation with the cache. decodeSteps: number of decode calls
// (newTokens - 1, or newTokens to get the logits after the last token).
async function generate(sess, lay, prompt, newTokens, opts = {}) {
  const logits = [];
  const t0 = now();
  let out = await sess.run(feeds(lay, prompt, 0, null));
  const t1 = now();
  let { V, data, off } = lastLogits(out);
  if (opts.keepLogits) logits.push(data.slice(off, off + V));
  const gen = [argmax(data, off, V)];
  let minMargin = margin(data, off, V, gen[0]), minAt = 0;
  let past = prompt.length;
  const steps = opts.decodeSteps !== undefined ? opts.decodeSteps : newTokens - 1;
  const stepMs = [];
  for (let k = 1; k <= steps; k++) {
    const cache = {};
    for (const [pin, pout] of lay.pairs) cache[pin] = out[pout];
    const ts = now();
    out = await sess.run(feeds(lay, [gen[gen.length - 1]], past, cache));
    stepMs.push(ms(ts, now()));
    past += 1;
    ({ V, data, off } = lastLogits(out));
    if (opts.keepLogits) logits.push(data.slice(off, off + V));
    if (gen.length < newTokens) {
      gen.push(argmax(data, off, V));
      const m = margin(data, off, V, gen[gen.length - 1]);
      if (m < minMargin) [minMargin, minAt] = [m, gen.length - 1];
    }
  }
  const decodeMs = stepMs.reduce((a, b) => a + b, 0);
  return { gen, logits, V, prefillMs: ms(t0, t1), decodeMs, stepMs, minMargin, minAt };
}

// Greedy without the cache: the whole prefix at every step.
async function generateNoCache(sess, lay, prompt, newTokens) {
  const ids = prompt.slice();
  const gen = [];
  for (let k = 0; k < newTokens; k++) {
    const out = await sess.run(feeds(lay, ids, 0, null));
    const { V, data, off } = lastLogits(out);
    const t = argmax(data, off, V);
    gen.push(t); ids.push(t);
  }
  return gen;
}

function showBytes(ids) {
  return Buffer.from(ids).toString('latin1').replace(/[\x00-\x08\x0b-\x1f\x5c\x7f-\xff]/g,
    (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

async function session(model, threads) {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
}

function median(xs) { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

async function bench(model, prompts) {
  const threadsList = arg('--threads', '1,2').split(',').map(Number);
  const reps = parseInt(arg('--reps', '10'));
  const P = parseInt(arg('--prefill-len', '128'));
  const contexts = arg('--contexts', '128,1024').split(',').map(Number);
  const N = parseInt(arg('--decode-tokens', '64'));
  const src = prompts ? [].concat(...prompts) : null;
  const bytes = (n) => {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = src ? src[i % src.length] : (i * 7919 + 13) % 256;
    return out;
  };
  const common = () => ({ model: model.split('/').pop(), ort: ort.env.versions.common,
    nproc: os.cpus().length, load1: +os.loadavg()[0].toFixed(2) });
  for (const threads of threadsList) {
    const sess = await session(model, threads);
    const lay = kvLayout(sess, model);
    // prefill
    const prompt = bytes(P);
    const warmup = parseInt(arg('--warmup', '3'));
    for (let i = 0; i < warmup; i++) await sess.run(feeds(lay, prompt, 0, null));
    const times = [];
    for (let r = 0; r < reps; r++) {
      const t0 = now();
      await sess.run(feeds(lay, prompt, 0, null));
      times.push(ms(t0, now()));
    }
    const pm = median(times);
    console.log(JSON.stringify({ bench: 'prefill', ...common(), threads, tokens: P, reps,
      median_ms: +pm.toFixed(4), min_ms: +Math.min(...times).toFixed(4), tok_s: +(P / pm * 1e3).toFixed(1) }));
    // decode
    for (const C of contexts) {
      const p = bytes(C);
      if (!flag('--logits-only')) {
        const runs = [];
        for (let r = 0; r < reps + 1; r++) {
          const res = await generate(sess, lay, p, N + 1, { decodeSteps: N });
          if (r > 0) runs.push(res.decodeMs); // first repetition is warm-up
        }
        const dm = median(runs);
        console.log(JSON.stringify({ bench: 'decode', ...common(), threads, context: C, tokens: N,
          past_start: C, past_end: C + N - 1, reps, median_ms: +dm.toFixed(4),
          min_ms: +Math.min(...runs).toFixed(4), ms_per_token: +(dm / N).toFixed(4),
          tok_s: +(N / dm * 1e3).toFixed(1) }));
      }
      // The same model work without the copy of present.* out of ORT: one
      // decode step at past C, fetching only logits, repeated.
      const pre = await sess.run(feeds(lay, p, 0, null));
      const cache = {};
      for (const [pin, pout] of lay.pairs) cache[pin] = pre[pout];
      const f1 = feeds(lay, [p[C - 1]], C, cache);
      for (let i = 0; i < 3; i++) await sess.run(f1, ['logits']);
      const steps = [];
      for (let i = 0; i < reps * N; i++) {
        const t0 = now();
        await sess.run(f1, ['logits']);
        steps.push(ms(t0, now()));
      }
      const sm = median(steps);
      console.log(JSON.stringify({ bench: 'decode_logits_only', ...common(), threads, context: C, tokens: 1,
        runs: reps * N, median_ms: +sm.toFixed(4), min_ms: +Math.min(...steps).toFixed(4),
        tok_s: +(1e3 / sm).toFixed(1) }));
    }
    if (sess.release) await sess.release();
  }
}

async function main() {
  const model = argv[0];
  if (!model || model.startsWith('--')) {
    console.error('usage: node ort_generate.js MODEL.onnx PROMPT [--max-new-tokens N] [--threads N] ... | --bench (see the header)');
    process.exit(2);
  }
  const prompts = loadPrompts();
  if (flag('--bench')) return bench(model, prompts);
  if (!prompts) throw new Error('no prompt: --prompt, --prompt-ids or --prompt-bin');
  const N = parseInt(arg('--max-new-tokens', '64'));
  if (!(N >= 1)) throw new Error('--max-new-tokens must be >= 1');
  const threads = parseInt(arg('--threads', '1'));
  const sess = await session(model, threads);
  const lay = kvLayout(sess, model);
  const logitsOut = arg('--output-logits');
  const logitRows = logitsOut ? Math.min(parseInt(arg('--logits-rows', String(prompts.length))), prompts.length) : 0;
  const quiet = flag('--quiet');
  const results = [];
  let pTok = 0, pMs = 0, dTok = 0, dMs = 0;
  for (let r = 0; r < prompts.length; r++) {
    const keep = r < logitRows;
    const res = await generate(sess, lay, prompts[r], N, keep ? { keepLogits: true, decodeSteps: N } : {});
    results.push(res);
    pTok += prompts[r].length; pMs += res.prefillMs; dTok += res.stepMs.length; dMs += res.decodeMs;
    if (!quiet) {
      if (res.V === 256) console.log(`[${r}] ${showBytes(prompts[r])}|${showBytes(res.gen)}`);
      else console.log(`[${r}] ${res.gen.join(' ')}`);
    }
  }
  const outIds = arg('--output-ids');
  if (outIds) {
    const L = prompts[0].length;
    if (!prompts.every((p) => p.length === L)) throw new Error('--output-ids needs prompts of one length');
    const a = new BigInt64Array(prompts.length * (L + N));
    prompts.forEach((p, r) => { a.set(i64(p.concat(results[r].gen)), r * (L + N)); });
    writeNpy(outIds, '<i8', [prompts.length, L + N], a);
  }
  if (logitsOut) {
    const V = results[0].V;
    const a = new Float32Array(logitRows * (N + 1) * V);
    for (let r = 0; r < logitRows; r++)
      results[r].logits.forEach((row, k) => a.set(row, (r * (N + 1) + k) * V));
    writeNpy(logitsOut, '<f4', [logitRows, N + 1, V], a);
  }
  const worst = results.reduce((w, res, r) => (res.minMargin < w[0] ? [res.minMargin, r, res.minAt] : w), [Infinity, -1, -1]);
  console.log(`smallest top1-top2 logit margin of a generated token: ${worst[0].toExponential(3)} ` +
    `(prompt ${worst[1]}, new token ${worst[2]})`);
  let status = 0;
  if (arg('--compare-logits')) {
    const m2 = arg('--compare-logits');
    const tol = parseFloat(arg('--tol', '1e-4'));
    const s2 = await session(m2, threads);
    const lay2 = kvLayout(s2, m2);
    let worst = 0;
    for (let r = 0; r < prompts.length; r++) {
      const a = (await sess.run(feeds(lay, prompts[r], 0, null))).logits;
      const b = (await s2.run(feeds(lay2, prompts[r], 0, null))).logits;
      if (a.data.length !== b.data.length) throw new Error(`--compare-logits: logits shapes [${a.dims}] vs [${b.dims}]`);
      let m = 0;
      for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
      if (!(m <= tol)) status = 1;
      worst = Math.max(worst, m);
    }
    console.log(`compare-logits (${m2.split('/').pop()}, ${prompts.length} prompts, prefill past 0): ` +
      `max |diff| ${worst.toExponential(3)} ${status ? '>' : '<='} tol ${tol}`);
  }
  if (flag('--check-nocache')) {
    const i = argv.indexOf('--check-nocache');
    const m2 = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[i + 1] : model;
    const s2 = m2 === model ? sess : await session(m2, threads);
    const lay2 = m2 === model ? lay : kvLayout(s2, m2);
    let same = 0;
    for (let r = 0; r < prompts.length; r++) {
      const g = await generateNoCache(s2, lay2, prompts[r], N);
      const first = g.findIndex((t, k) => t !== results[r].gen[k]);
      if (first < 0) same++;
      else console.log(`nocache mismatch: prompt ${r}, token ${first}: cache ${results[r].gen[first]} vs nocache ${g[first]}`);
    }
    console.log(`check-nocache (${m2.split('/').pop()}): ${same}/${prompts.length} prompts identical`);
    if (same !== prompts.length) status = 1;
  }
  console.log(`prefill: ${pTok} tokens, ${(pTok / pMs * 1e3).toFixed(1)} tok/s; ` +
    `decode: ${dTok} tokens, ${dTok ? (dTok / dMs * 1e3).toFixed(1) : 0} tok/s`);
  process.exitCode = status;
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
