// -passes=custominline: inlines calls to functions marked always_inline and to runtime helpers
// named __noinstrument__inline_* (NOINSTRUMENT_INLINE in runtime-include/noinstrument.h), so
// helpers from a statically linked runtime library cost no call in instrumented code.
#include "builtin/Common.h"

#include "llvm/Transforms/Utils/Cloning.h"

using namespace llvm;

static cl::opt<unsigned> MaxRounds("custominline-max-rounds",
                                   cl::desc("how often to inline into freshly inlined code"),
                                   cl::init(8));

namespace {
struct CustomInlinePass : PassInfoMixin<CustomInlinePass> {
  static bool wantsInline(const Function &F) {
    return !F.isDeclaration() && !F.isInterposable() &&
           (F.hasFnAttribute(Attribute::AlwaysInline) || F.getName().starts_with(infra::InlinePrefix));
  }

  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    bool Changed = false;
    for (unsigned Round = 0; Round < MaxRounds; Round++) {
      SmallVector<CallBase *, 16> Calls;
      for (Function &F : M)
        for (Instruction &I : instructions(F))
          if (auto *CB = dyn_cast<CallBase>(&I))
            if (Function *Callee = infra::getCalledFunction(*CB))
              if (Callee != &F && wantsInline(*Callee) && CB->getCalledOperand() == Callee)
                Calls.push_back(CB);
      bool Inlined = false;
      for (CallBase *CB : Calls) {
        InlineFunctionInfo IFI;
        if (InlineFunction(*CB, IFI).isSuccess())
          Inlined = true;
      }
      if (!Inlined)
        break;
      Changed = true;
    }
    return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
  }
};
} // namespace

INFRA_MODULE_PASS("custominline", CustomInlinePass);
