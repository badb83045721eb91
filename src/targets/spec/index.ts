export { SpecCpu, SPEC2006, SPEC2017, type SpecOptions, type SpecSourceType } from './spec.js';
export { CPU2006, CPU2017, type SpecVersion, type SpecBenchmark, type SpecLanguage } from './versions.js';
export { parseResults, logPathFromOutput, type SpecResult } from './harness.js';
