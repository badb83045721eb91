export { Juliet, julietPassed, type JulietOptions, type JulietKind } from './juliet.js';
export { CWE_ALIASES, UNSUPPORTED_VARIANTS } from './cwes.js';
export { discoverTestCases, resolveCwes, type JulietTestCase } from './testcases.js';
