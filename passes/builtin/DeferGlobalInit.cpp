// -passes=defer-global-init: gives every writable global with a non-zero initializer a zero
// initializer and stores the original value from a constructor that runs before all others.
// Together with expand-const-global-uses this lets an instrumentation see every initialization
// of a global as an instruction. Constant globals stay as they are (they live in read-only memory).
#include "builtin/Common.h"

using namespace llvm;

namespace {
struct DeferGlobalInitPass : PassInfoMixin<DeferGlobalInitPass> {
  static bool shouldDefer(const GlobalVariable &G) {
    if (!G.hasInitializer() || G.isConstant() || G.isThreadLocal() || G.hasSection() ||
        G.getName().starts_with("llvm.") || G.getName().starts_with(infra::NoInstrumentPrefix))
      return false;
    const Constant *Init = G.getInitializer();
    return !Init->isNullValue() && !isa<UndefValue>(Init);
  }

  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    SmallVector<GlobalVariable *, 16> Globals;
    for (GlobalVariable &G : M.globals())
      if (shouldDefer(G))
        Globals.push_back(&G);
    if (Globals.empty())
      return PreservedAnalyses::all();
    Function *Ctor = infra::createNoInstrumentFunction(M, "defer_global_init");
    IRBuilder<> B(&Ctor->getEntryBlock());
    for (GlobalVariable *G : Globals) {
      Constant *Init = G->getInitializer();
      G->setInitializer(Constant::getNullValue(G->getValueType()));
      B.CreateAlignedStore(Init, G, G->getAlign());
    }
    B.CreateRetVoid();
    infra::addEarlyConstructor(M, Ctor);
    return PreservedAnalyses::none();
  }
};
} // namespace

INFRA_MODULE_PASS("defer-global-init", DeferGlobalInitPass);
