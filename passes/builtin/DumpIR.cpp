// -passes=dump-ir: writes the module as it is at this point to NAME.ll and says where.
// NAME is -dump-ir-file if given, else the string set with DEBUG_MODULE_NAME("...")
// (runtime-include/dump-ir-helper.h), else the module's source file name without extension.
#include "builtin/Common.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;

static cl::opt<std::string> DumpFile("dump-ir-file", cl::desc("file the dump-ir pass writes"),
                                     cl::init(""));
static cl::opt<std::string> DumpDir("dump-ir-dir", cl::desc("directory for dump-ir files"),
                                    cl::init("."));

namespace {
struct DumpIRPass : PassInfoMixin<DumpIRPass> {
  static std::string moduleName(Module &M) {
    if (GlobalVariable *G = M.getNamedGlobal("__infra_debug_module_name"))
      if (auto *CDA = dyn_cast_or_null<ConstantDataArray>(G->hasInitializer() ? G->getInitializer() : nullptr))
        if (CDA->isCString())
          return CDA->getAsCString().str();
    StringRef Src = M.getSourceFileName().empty() ? StringRef(M.getModuleIdentifier()) : StringRef(M.getSourceFileName());
    std::string Stem = sys::path::stem(Src).str();
    return Stem.empty() ? "module" : Stem;
  }

  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    std::string Path = DumpFile;
    if (Path.empty()) {
      SmallString<256> P(DumpDir.getValue());
      sys::path::append(P, moduleName(M) + ".ll");
      Path = std::string(P);
    }
    std::error_code EC;
    raw_fd_ostream OS(Path, EC, sys::fs::OF_Text);
    if (EC) {
      errs() << "dump-ir: cannot write " << Path << ": " << EC.message() << "\n";
      return PreservedAnalyses::all();
    }
    M.print(OS, nullptr);
    errs() << "dump-ir: wrote " << Path << "\n";
    return PreservedAnalyses::all();
  }
};
} // namespace

INFRA_MODULE_PASS("dump-ir", DumpIRPass);
