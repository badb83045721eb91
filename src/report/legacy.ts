// The block format lives in the core (targets read it by default); re-exported for readers.
export * from '../core/report-blocks.js';
