// -passes=sizeof-types: records the type each heap allocation allocates, as the source says it
// with sizeof: `malloc(10 * sizeof(struct node))` gets `!infra.sizeof.type !{!"struct node"}`.
// Read it with the helpers of builtin/SizeofTypes.h.
//
// Design. `sizeof(T)` is a constant by the time IR exists, so the type must come from the source.
// The compiler wrapper passes/sizeof-types/sizeof-cc.mjs does that part: before compiling, it
// runs the same compiler with `-ast-dump=json -fsyntax-only` on each source, finds calls to
// allocation functions (malloc, calloc, realloc, ... and those named in INFRA_SIZEOF_ALLOC_FUNCS)
// whose size arguments contain a sizeof, and writes a side table of
//   file, line, column, callee, type name
// for them. It compiles with column debug locations and names the table in the environment
// (INFRA_SIZEOF_TYPES_TABLE) of the compiler, in which this pass runs. The pass matches each
// direct call by the line and column of its debug location, its file (the full path, or only the
// file name when debug prefix maps change directories) and the callee's name; a location the
// table gives conflicting types for (several allocations in one macro) gets none. When the
// wrapper added the debug locations itself (the command had no -g), the pass strips them again,
// so the object is what it would have been without the wrapper, apart from the metadata.
//
// Run it at the start of the pipeline (-infra-start-passes=sizeof-types), before inlining or
// optimization moves calls around; the metadata then travels with the calls, also into LTO.
#include "builtin/Common.h"
#include "builtin/SizeofTypes.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/DebugInfo.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cstdlib>

using namespace llvm;

static cl::opt<std::string> TableOption("sizeof-types-table",
                                        cl::desc("allocation table of the sizeof-types wrapper "
                                                 "(default: $INFRA_SIZEOF_TYPES_TABLE)"),
                                        cl::init(""));
static cl::opt<bool> Stats("sizeof-types-stats", cl::desc("print how many allocations got a type"),
                           cl::init(false));

namespace {
struct TableEntry {
  std::string Path; // absolute, as the wrapper resolved it
  std::string Callee;
  std::string Type;
};

// Entries by "<file name>:<line>:<column>".
using Table = StringMap<SmallVector<TableEntry, 1>>;

std::string locationKey(StringRef Path, unsigned Line, unsigned Col) {
  return (sys::path::filename(Path) + ":" + Twine(Line) + ":" + Twine(Col)).str();
}

bool readTable(StringRef File, Table &T) {
  auto Buf = MemoryBuffer::getFile(File, /*IsText=*/true);
  if (!Buf) {
    errs() << "warning: sizeof-types: cannot read " << File << ": " << Buf.getError().message() << "\n";
    return false;
  }
  SmallVector<StringRef, 0> Lines;
  (*Buf)->getBuffer().split(Lines, '\n', -1, false);
  for (StringRef L : Lines) {
    SmallVector<StringRef, 5> F;
    L.split(F, '\t');
    unsigned Line, Col;
    if (F.size() != 5 || F[1].getAsInteger(10, Line) || F[2].getAsInteger(10, Col))
      continue;
    T[locationKey(F[0], Line, Col)].push_back({F[0].str(), F[3].str(), F[4].str()});
  }
  return true;
}

std::string absolutePath(const DILocation &DL) {
  SmallString<256> P(DL.getFilename());
  if (!sys::path::is_absolute(P)) {
    P = DL.getDirectory();
    sys::path::append(P, DL.getFilename());
  }
  sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

// A C name, or a C++ function at namespace scope whose mangled name starts with it.
bool sameFunction(StringRef IRName, StringRef SourceName) {
  return IRName == SourceName || IRName.starts_with(("_Z" + Twine(SourceName.size()) + SourceName).str());
}

struct SizeofTypesPass : PassInfoMixin<SizeofTypesPass> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    std::string File = TableOption;
    if (File.empty())
      if (const char *Env = getenv("INFRA_SIZEOF_TYPES_TABLE"))
        File = Env;
    if (File.empty()) {
      errs() << "warning: sizeof-types: no allocation table for " << M.getSourceFileName()
             << "; compile with the sizeof-types compiler wrapper (passes/sizeof-types/sizeof-cc.mjs)\n";
      return PreservedAnalyses::all();
    }
    Table T;
    if (!readTable(File, T))
      return PreservedAnalyses::all();

    LLVMContext &C = M.getContext();
    unsigned Calls = 0, Typed = 0;
    for (Function &F : M) {
      for (Instruction &I : instructions(F)) {
        auto *CB = dyn_cast<CallBase>(&I);
        Function *Callee = CB ? infra::getCalledFunction(*CB) : nullptr;
        const DILocation *DL = CB ? CB->getDebugLoc().get() : nullptr;
        if (!Callee || !DL || Callee->isIntrinsic())
          continue;
        auto It = T.find(locationKey(DL->getFilename(), DL->getLine(), DL->getColumn()));
        if (It == T.end())
          continue;
        Calls++;
        if (std::optional<StringRef> Type = match(It->second, *DL, Callee->getName())) {
          CB->setMetadata(infra::SizeofTypeMetadata, MDNode::get(C, MDString::get(C, *Type)));
          Typed++;
        }
      }
    }
    if (Stats)
      errs() << "sizeof-types: " << M.getSourceFileName() << ": typed " << Typed << " of the " << Calls
             << " calls at places the table lists\n";
    const char *Strip = getenv("INFRA_SIZEOF_STRIP_DEBUG");
    if (Strip && StringRef(Strip) == "1")
      StripDebugInfo(M);
    return Typed || Strip ? PreservedAnalyses::none() : PreservedAnalyses::all();
  }

  // The type of the entries at this place for this callee: those of the call's own file if any
  // has it, else all (the file name matched); none if they disagree.
  static std::optional<StringRef> match(const SmallVectorImpl<TableEntry> &Entries, const DILocation &DL,
                                        StringRef Callee) {
    std::string Path = absolutePath(DL);
    bool AnyExact = false;
    for (const TableEntry &E : Entries)
      AnyExact |= E.Path == Path && sameFunction(Callee, E.Callee);
    std::optional<StringRef> Type;
    for (const TableEntry &E : Entries) {
      if (!sameFunction(Callee, E.Callee) || (AnyExact && E.Path != Path))
        continue;
      if (Type && *Type != E.Type)
        return std::nullopt;
      Type = E.Type;
    }
    return Type;
  }
};
} // namespace

INFRA_MODULE_PASS("sizeof-types", SizeofTypesPass);
