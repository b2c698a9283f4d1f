// onnxruntime-web (pinned by scripts/bench_page_ort.sh, served from ./ort/) timed as the
// demo page's `?bench=N` times itself: `?ep=wasm|webgpu&bench=N&model=PATH`. One thread
// (the page's CPU path is single-threaded too); the first run, which compiles WebGPU's
// shaders, is reported apart; the result is JSON in #app[data-bench].
const app = document.getElementById("app");
const params = new URLSearchParams(location.search);
const ep = params.get("ep") || "wasm";
const runs = Math.max(1, Number(params.get("bench") || 10));
const model = params.get("model") || "models/model.onnx";

// The same fixed input as web/src/app/bench.rs (a linear congruential sequence in [-2, 2]).
function fixedInput(n) {
  const data = new Float32Array(n);
  let state = 1;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = ((state >>> 8) / 2 ** 24) * 4 - 2;
  }
  return data;
}

async function measure() {
  const ort = await import(ep === "webgpu" ? "./ort/ort.webgpu.min.mjs" : "./ort/ort.wasm.min.mjs");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL("./ort/", location.href).href;
  const response = await fetch(model);
  if (!response.ok) throw new Error(`${model}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
  const size = Number(params.get("size") || 224);
  const feeds = { input: new ort.Tensor("float32", fixedInput(3 * size * size), [1, 3, size, size]) };
  const run = async () => {
    const out = await session.run(feeds);
    return out.logits.data; // on the CPU, as the page reads its logits back
  };
  const firstStarted = performance.now();
  const logits = Array.from(await run());
  const startup = performance.now();
  const forwards = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    forwards.push(performance.now() - started);
  }
  const sorted = [...forwards].sort((a, b) => a - b);
  return {
    backend: ep,
    model,
    model_bytes: bytes.length,
    logits,
    startup_ms: startup,
    first_forward_ms: startup - firstStarted,
    forwards_ms: forwards,
    median_ms: sorted[Math.floor(sorted.length / 2)],
    min_ms: sorted[0],
  };
}

measure().then(
  (result) => {
    app.dataset.bench = JSON.stringify(result);
    app.dataset.state = "done";
  },
  (error) => {
    app.dataset.error = String(error && error.stack ? error.stack : error);
    app.dataset.state = "error";
  },
);
