// Times one ONNX model with ONNX Runtime (onnxruntime-node) on the given
// .npy inputs: prints one JSON line {median_ms, min_ms, cpu_ms, runs,
// threads} (cpu_ms: process CPU time per run).
//   node ort_model.js MODEL.onnx --input NAME=FILE.npy [...] --threads N --runs N
const fs = require('fs');
const ort = require('onnxruntime-node');

function args(name) {
  const out = [];
  for (let i = 2; i < process.argv.length - 1; i++)
    if (process.argv[i] === name) out.push(process.argv[i + 1]);
  return out;
}

// Minimal .npy reader (little-endian, C order) for the bench inputs.
function readNpy(path) {
  const buf = fs.readFileSync(path);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1]
    .split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = buf.subarray(10 + hlen);
  const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const types = { '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
    '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array] };
  const [t, Arr] = types[descr];
  return new ort.Tensor(t, new Arr(ab), shape);
}

async function main() {
  const model = process.argv[2];
  const threads = parseInt(args('--threads')[0] || '1');
  const runs = parseInt(args('--runs')[0] || '20');
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const feeds = {};
  for (const a of args('--input')) {
    const [name, file] = a.split('=');
    feeds[name] = readNpy(file);
  }
  for (let i = 0; i < 3; i++) await sess.run(feeds);
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const cpu_ms = (cpu.user + cpu.system) / 1e3 / runs;
  console.log(JSON.stringify({ median_ms: times[Math.floor(runs / 2)], min_ms: times[0], cpu_ms, runs, threads }));
}
main().catch((e) => { console.error(e.message || e); process.exit(1); });
