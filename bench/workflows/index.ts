// Bundle entry for bench/interpreter-vs-bare.ts: the product's workflows and the bare baseline, on one worker.
export * from '../../workflows';
export { bareParallel, bareSequential } from './bare';
