// Times an ONNX model with ONNX Runtime (onnxruntime-node) on random or given
// int64 token input: prints one JSON line {median_ms, min_ms, runs}.
//   node ort_latency.js MODEL.onnx --threads N --runs N [--shape 1x128] [--vocab 256]
const ort = require('onnxruntime-node');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}

async function main() {
  const model = process.argv[2];
  const threads = parseInt(arg('--threads', '1'));
  const runs = parseInt(arg('--runs', '20'));
  const shape = arg('--shape', '1x128').split('x').map(Number);
  const vocab = parseInt(arg('--vocab', '256'));
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const n = shape.reduce((a, b) => a * b, 1);
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt((i * 7919) % vocab);
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('int64', ids, shape) };
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
