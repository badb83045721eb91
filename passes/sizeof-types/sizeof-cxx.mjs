#!/usr/bin/env node
// The C++ side of the sizeof-types wrapper (see sizeof-cc.mjs): the compiler is INFRA_SIZEOF_CXX,
// or the first argument.
if (process.env.INFRA_SIZEOF_CXX) process.env.INFRA_SIZEOF_CC = process.env.INFRA_SIZEOF_CXX;
else delete process.env.INFRA_SIZEOF_CC;
await import('./sizeof-cc.mjs');
