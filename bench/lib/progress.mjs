// Progress lines on stderr.
const t0 = Date.now();
export function progress(msg) {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
}
