#!/usr/bin/env node
// @ts-check
// Compiler wrapper for the sizeof-types pass (passes/builtin/SizeofTypes.cpp).
//
//   INFRA_SIZEOF_CC=clang-22 sizeof-cc.mjs -c foo.c -o foo.o ...   (the compiler from the environment)
//   sizeof-cc.mjs clang-22 -c foo.c -o foo.o ...                   (or, like ccache, as first argument)
//
// `sizeof(T)` is folded to a number long before LLVM IR exists, so this wrapper recovers it from
// the source: for each C/C++ source being compiled it runs the same compiler with
// `-Xclang -ast-dump=json -fsyntax-only` and the same flags, finds calls to allocation functions
// whose size arguments contain a `sizeof`, and writes one line per call to a side table:
//
//   <absolute file> TAB <line> TAB <column> TAB <callee> TAB <type>
//
// Then it compiles normally, with column debug locations (line tables are added when the
// command has no -g, and the pass strips them again) and INFRA_SIZEOF_TYPES_TABLE naming the
// table, where the pass, running inside that compiler, picks it up.
//
// Environment:
//   INFRA_SIZEOF_CC           the real compiler (else the first argument is)
//   INFRA_SIZEOF_ALLOC_FUNCS  more allocation functions, comma-separated, each `name` (size
//                             in any argument) or `name:i:j` (size in 0-based arguments i, j)
//   INFRA_SIZEOF_KEEP_TABLE   keep the table file and print its path (for debugging)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** Allocation functions and the (0-based) arguments holding the size; null: any argument. */
const DEFAULT_ALLOC_FUNCS = {
  malloc: [0], calloc: [0, 1], realloc: [1], reallocarray: [1, 2], aligned_alloc: [1],
  memalign: [1], valloc: [0], pvalloc: [0], posix_memalign: [2],
};

const SOURCE_EXT = /\.(c|cc|cp|cpp|cxx|c\+\+|C|i|ii|m|mm)$/;

// Options whose value is the next argument (as in `-o out`); their value is never a source.
const TAKES_VALUE = new Set([
  '-o', '-x', '-I', '-D', '-U', '-include', '-imacros', '-isystem', '-idirafter', '-iquote', '-iprefix',
  '-iwithprefix', '-iwithprefixbefore', '-isysroot', '--sysroot', '-target', '--target', '-arch', '-MF', '-MT', '-MQ',
  '-MJ', '-L', '-l', '-T', '-u', '-z', '-e', '-Xlinker', '-Xclang', '-Xassembler', '-Xpreprocessor', '-mllvm',
  '-ivfsoverlay', '-F', '-aux-info', '-dependency-file', '-serialize-diagnostics', '-working-directory', '-B',
]);

// Options that make no sense (or would write files) in the analysis run; `true`: drops its value too.
const NOT_FOR_ANALYSIS = new Map([
  ['-o', true], ['-MF', true], ['-MT', true], ['-MQ', true], ['-MJ', true], ['-mllvm', true],
  ['-c', false], ['-S', false], ['-E', false], ['-MD', false], ['-MMD', false], ['-MP', false], ['-MG', false],
  ['-emit-llvm', false], ['-save-temps', false],
]);

/** @param {string} spec */
function parseAllocFuncs(spec) {
  /** @type {Record<string, number[] | null>} */
  const funcs = { ...DEFAULT_ALLOC_FUNCS };
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, ...idx] = item.split(':');
    if (!name || idx.some((i) => !/^\d+$/.test(i))) {
      throw new Error(`INFRA_SIZEOF_ALLOC_FUNCS: '${item}' is not 'name' or 'name:i[:j...]' (0-based argument indexes)`);
    }
    funcs[name] = idx.length ? idx.map(Number) : null;
  }
  return funcs;
}

/**
 * Splits a compiler command into its sources and the flags for analyzing one of them.
 * @param {string[]} args
 */
function splitCommand(args) {
  /** @type {string[]} */ const sources = [];
  /** @type {string[]} */ const flags = [];
  let debug = false;
  let mode = 'compile'; // 'preprocess' and 'syntax' are passed through untouched
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (TAKES_VALUE.has(a)) {
      if (!NOT_FOR_ANALYSIS.get(a)) flags.push(a, args[i + 1]);
      i++;
      continue;
    }
    if (a === '-E' || a === '-M' || a === '-MM') mode = 'preprocess';
    if (a === '-fsyntax-only') mode = 'syntax';
    if (a === '-g0') debug = false;
    else if (/^-g(?!no-|split-dwarf|z|column-info|record-command-line|pubnames|inline-line-tables)/.test(a)) debug = true;
    if (!a.startsWith('-') && SOURCE_EXT.test(a)) sources.push(a);
    else if (NOT_FOR_ANALYSIS.has(a) || a.startsWith('-fpass-plugin=') || a.startsWith('-mllvm=') || a.startsWith('-Wl,')) continue;
    else flags.push(a);
  }
  return { sources, flags, debug, mode };
}

/** @param {{ qualType: string, desugaredQualType?: string } | undefined} t */
function typeName(t) {
  if (!t) return undefined;
  return (t.desugaredQualType ?? t.qualType).replace(/^((const|volatile|restrict)\s+)+/, '');
}

/**
 * The allocated type of a size expression: the first sizeof met walking through parentheses,
 * casts and arithmetic, left to right (so `sizeof(struct hdr) + n * sizeof(int)` is the header).
 * @param {any} e
 * @returns {string | undefined}
 */
function sizeofType(e) {
  if (!e || typeof e !== 'object') return undefined;
  if (e.kind === 'UnaryExprOrTypeTraitExpr') {
    if (e.name !== 'sizeof') return undefined;
    return e.argType ? typeName(e.argType) : typeName(e.inner?.[0]?.type);
  }
  const through = ['ParenExpr', 'ImplicitCastExpr', 'CStyleCastExpr', 'CXXFunctionalCastExpr', 'CXXStaticCastExpr', 'BinaryOperator', 'ConstantExpr', 'ExprWithCleanups'];
  if (!through.includes(e.kind)) return undefined;
  if (e.kind === 'BinaryOperator' && !['*', '+', '-', '<<'].includes(e.opcode)) return undefined;
  for (const child of e.inner ?? []) {
    const t = sizeofType(child);
    if (t) return t;
  }
  return undefined;
}

/** The name of the directly called function of a CallExpr, if any. @param {any} call */
function calleeName(call) {
  let e = call.inner?.[0];
  while (e && (e.kind === 'ImplicitCastExpr' || e.kind === 'ParenExpr')) e = e.inner?.[0];
  return e?.kind === 'DeclRefExpr' && e.referencedDecl?.kind === 'FunctionDecl' ? e.referencedDecl.name : undefined;
}

/**
 * Clang's JSON dump leaves out a location's file and line when they equal those of the location
 * printed before, so locations are resolved in document order, which JSON.parse keeps.
 */
class LocationResolver {
  file = '';
  line = 0;
  // where debug information places it, after `#line` directives (line markers)
  presumedFile = '';
  presumedLine = 0;

  /** Sets `absFile` and `absLine` (the presumed place) of every location object in `node`. @param {any} node */
  resolveAll(node) {
    if (Array.isArray(node)) {
      for (const n of node) this.resolveAll(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    if ('offset' in node && 'col' in node) {
      if ('file' in node) this.file = node.file;
      // same line, same presumed place; a new line is presumed where it is unless the dump says
      // otherwise (a presumedLine without presumedFile keeps the previous presumed file)
      if ('line' in node) {
        this.line = node.line;
        this.presumedLine = node.presumedLine ?? node.line;
        if ('presumedFile' in node) this.presumedFile = node.presumedFile;
        else if (!('presumedLine' in node)) this.presumedFile = this.file;
      } else if ('presumedFile' in node) this.presumedFile = node.presumedFile;
      node.absFile = this.presumedFile;
      node.absLine = this.presumedLine;
      return;
    }
    for (const key of Object.keys(node)) if (key !== 'includedFrom') this.resolveAll(node[key]);
  }
}

const SKIP_KEYS = new Set(['loc', 'range', 'type', 'argType', 'referencedDecl', 'decl', 'ownedTagDecl']);

/**
 * Table lines for the allocation calls in one top-level declaration.
 * @param {any} decl  @param {Record<string, number[] | null>} funcs  @param {string} cwd  @param {string[]} out
 */
function collectCalls(decl, funcs, cwd, out) {
  /** @param {any} n */
  const visit = (n) => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (!n || typeof n !== 'object') return;
    if (n.kind === 'CallExpr') {
      const name = calleeName(n);
      if (name && Object.hasOwn(funcs, name)) {
        const args = n.inner.slice(1);
        const idx = funcs[name] ?? args.map((/** @type {any} */ _, /** @type {number} */ i) => i);
        let type;
        for (const i of idx) if ((type = sizeofType(args[i]))) break;
        // a call inside a macro is located where the macro is used, as in debug information
        const begin = n.range?.begin?.expansionLoc ?? n.range?.begin;
        if (type && begin?.absFile && !/[\t\n]/.test(type)) {
          out.push([resolve(cwd, begin.absFile), begin.absLine, begin.col, name, type].join('\t'));
        }
      }
    }
    for (const key of Object.keys(n)) if (!SKIP_KEYS.has(key)) visit(n[key]);
  };
  visit(decl);
}

/**
 * Runs the AST dump of one source and collects its table lines. The dump of a large unit can be
 * gigabytes, so it is read one top-level declaration at a time (clang prints two-space indented
 * JSON, so those are the `    {` ... `    }` blocks).
 * @returns {Promise<boolean>} whether the analysis succeeded
 */
function analyze(/** @type {string} */ cc, /** @type {string[]} */ flags, /** @type {string} */ source, /** @type {Record<string, number[] | null>} */ funcs, /** @type {string[]} */ out) {
  const argv = [...flags, '-Xclang', '-ast-dump=json', '-fsyntax-only', '-w', '-Wno-unused-command-line-argument', source];
  const child = spawn(cc, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
  const resolver = new LocationResolver();
  const cwd = process.cwd();
  /** @type {string[] | null} */ let chunk = null;
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (chunk === null) {
      if (line === '    {') chunk = [line];
      return;
    }
    if (line === '    }' || line === '    },') {
      chunk.push('    }');
      const decl = JSON.parse(chunk.join('\n'));
      chunk = null;
      resolver.resolveAll(decl);
      collectCalls(decl, funcs, cwd, out);
    } else chunk.push(line);
  });
  return new Promise((done) => {
    child.on('error', () => done(false));
    child.on('close', (code) => done(code === 0));
  });
}

async function main() {
  let args = process.argv.slice(2);
  let cc = process.env.INFRA_SIZEOF_CC;
  if (!cc) {
    if (args.length === 0) {
      process.stderr.write('usage: sizeof-cc.mjs COMPILER ARGS... (or set INFRA_SIZEOF_CC=COMPILER)\n');
      return 2;
    }
    cc = /** @type {string} */ (args[0]);
    args = args.slice(1);
  }
  const { sources, flags, debug, mode } = splitCommand(args);
  if (mode !== 'compile' || sources.length === 0) return compile(cc, args, {});

  const funcs = parseAllocFuncs(process.env.INFRA_SIZEOF_ALLOC_FUNCS ?? '');
  /** @type {string[]} */ const table = [];
  const failed = [];
  for (const source of sources) if (!(await analyze(cc, flags, source, funcs, table))) failed.push(source);

  const dir = mkdtempSync(join(tmpdir(), 'infra-sizeof-'));
  const tableFile = join(dir, 'sizeof-types.tsv');
  writeFileSync(tableFile, table.map((l) => l + '\n').join(''));
  const env = { INFRA_SIZEOF_TYPES_TABLE: tableFile, ...(debug ? {} : { INFRA_SIZEOF_STRIP_DEBUG: '1' }) };
  const extra = [...(debug ? [] : ['-gline-tables-only']), '-gcolumn-info'];
  const status = compile(cc, [...args, ...extra], env);
  if (status === 0 && failed.length) {
    process.stderr.write(`sizeof-types: could not analyze ${failed.map((f) => basename(f)).join(', ')}; its allocations get no type\n`);
  }
  if (process.env.INFRA_SIZEOF_KEEP_TABLE) process.stderr.write(`sizeof-types: table ${tableFile}\n`);
  else rmSync(dir, { recursive: true, force: true });
  return status;
}

/** Runs the real compiler; its exit status (128 + signal number if killed). */
function compile(/** @type {string} */ cc, /** @type {string[]} */ args, /** @type {Record<string, string>} */ env) {
  const r = spawnSync(cc, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) {
    process.stderr.write(`sizeof-types: cannot run compiler '${cc}': ${r.error.message}\n`);
    return 127;
  }
  if (r.signal) return 128 + (/** @type {Record<string, number>} */ ({ SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 })[r.signal] ?? 1);
  return r.status ?? 1;
}

process.exitCode = await main().catch((/** @type {unknown} */ e) => {
  process.stderr.write(`sizeof-types: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
});
