// Progress lines on stderr.
const t0 = Date.now();

export type Progress = (msg: string) => void;

export const progress: Progress = (msg) => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
};
