// The quick start's project: real programs (the bundled kernels and the open-source suite from
// upstream tarballs) with a baseline (clang -O2) and an instrumented instance (AddressSanitizer).
import { ASan, Clang, Kernels, LLVM, OpenSourceSuite, Setup } from 'instrumentation-infra';

const llvm = LLVM.installed({ version: '22' });

const setup = new Setup(import.meta.url);
setup.addTarget(new Kernels());
setup.addTarget(new OpenSourceSuite());
setup.addInstance(new Clang(llvm)); // the baseline
setup.addInstance(new ASan(llvm)); // the instrumentation whose overhead we measure
await setup.main();
