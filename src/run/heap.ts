import { setFlagsFromString } from 'node:v8';

/**
 * Has V8 size its heap for memory rather than speed from here on. A run allocates a few KB per
 * execution that die young, yet V8 promotes some of them and, sizing the old generation for
 * throughput, lets that garbage grow to several times the live heap before collecting it: about
 * 100 MB of garbage by the 100,000th execution of a trivial program. With this flag it collects
 * sooner (bench/README.md, run-memory.ts). `--optimize-for-size` is a policy V8 consults each
 * time it sizes the heap, so setting it after start-up takes effect; flags that shape the heap
 * at start-up (the young generation's size) could not be set this way.
 */
export function favourMemoryOverSpeed(): void {
  setFlagsFromString('--optimize-for-size');
}
