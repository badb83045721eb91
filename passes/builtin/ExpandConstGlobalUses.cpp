// -passes=expand-const-global-uses: turns constant expressions that use globals inside
// functions (e.g. `getelementptr (@g, 12)` as an operand) into instructions, so an
// instrumentation only has to handle instructions. InstCombine folds them back.
#include "builtin/Common.h"

#include "llvm/IR/ReplaceConstant.h"

using namespace llvm;

namespace {
struct ExpandConstGlobalUsesPass : PassInfoMixin<ExpandConstGlobalUsesPass> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    SmallVector<Constant *, 32> Globals;
    for (GlobalVariable &G : M.globals())
      if (!G.getName().starts_with("llvm."))
        Globals.push_back(&G);
    bool Changed = false;
    // per function, so that uses in other globals' initializers stay constant expressions
    for (Function &F : M)
      if (!F.isDeclaration() && !infra::isNoInstrument(F))
        Changed |= convertUsersOfConstantsToInstructions(Globals, &F);
    return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
  }
};
} // namespace

INFRA_MODULE_PASS("expand-const-global-uses", ExpandConstGlobalUsesPass);
