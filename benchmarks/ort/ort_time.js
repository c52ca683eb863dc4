// Time onnxruntime-node on one ONNX file, for benchmarks/ort/run.sh.
//
// usage: node ort_time.js MODEL.onnx INPUT.bin DIMS THREADS REPEATS OUTPUT_NAME OUT.bin
//   INPUT.bin  float32, row-major, of shape DIMS ("1000000,50" or "8,3,224,224")
//   THREADS    intra-op and inter-op threads (sequential execution either way)
//   OUT.bin    the output OUTPUT_NAME of the last run, as float32
// Loads the session, makes one untimed run, then REPEATS timed session.run calls on the same
// input tensor; prints one JSON line with the median and the minimum wall time of a run.
// Needs onnxruntime-node on NODE_PATH (run.sh installs it; never a product dependency).
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
	const [model, input, dimsArg, threadsArg, repsArg, outName, outFile] = process.argv.slice(2);
	if (!outFile) {
		console.error("usage: ort_time.js MODEL INPUT.bin DIMS THREADS REPEATS OUTPUT OUT.bin");
		process.exit(2);
	}
	const dims = dimsArg.split(",").map(Number);
	const threads = Number(threadsArg), reps = Number(repsArg);
	const buf = fs.readFileSync(input);
	const count = dims.reduce((a, b) => a * b, 1);
	if (buf.length !== count * 4)
		throw new Error(`${input}: ${buf.length} bytes, shape ${dimsArg} needs ${count * 4}`);
	const x = new Float32Array(buf.buffer, buf.byteOffset, count);
	const session = await ort.InferenceSession.create(model, {
		executionMode: "sequential",
		intraOpNumThreads: threads,
		interOpNumThreads: threads,
		graphOptimizationLevel: "all",
	});
	const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x, dims) };
	let out = await session.run(feeds, [outName]); // untimed: allocations, caches
	const times = [];
	for (let r = 0; r < reps; r++) {
		const t0 = process.hrtime.bigint();
		out = await session.run(feeds, [outName]);
		times.push(Number(process.hrtime.bigint() - t0) / 1e9);
	}
	const y = out[outName];
	fs.writeFileSync(outFile, Buffer.from(Float32Array.from(y.data).buffer));
	times.sort((a, b) => a - b);
	const med = times.length % 2 ? times[(times.length - 1) / 2]
		: (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
	console.log(JSON.stringify({
		engine: "onnxruntime-node", version: ort.env.versions.node, model, threads,
		batch: dims[0], seconds_median: med, seconds_min: times[0], runs: times.length,
		output_dims: y.dims,
	}));
}

main().catch((e) => {
	console.error(`ort_time.js: ${e.message}`);
	process.exit(1);
});
