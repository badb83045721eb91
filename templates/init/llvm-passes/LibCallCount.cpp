// The `libcallcount` pass: before every call to a library function (a function declared but
// not defined in this module), it increments a counter for that function. A constructor
// registers the counters with the runtime library (runtime/libcallcount.c), which prints them
// when the program exits.
#include "builtin/Common.h" // LLVM headers, infra helpers, INFRA_MODULE_PASS

#include "llvm/ADT/MapVector.h"

using namespace llvm;

namespace {
struct LibCallCountPass : PassInfoMixin<LibCallCountPass> {
  static bool isLibraryCall(const Function &Callee) {
    return Callee.isDeclaration() && !Callee.isIntrinsic() && !infra::isNoInstrument(Callee) &&
           !Callee.getName().starts_with("__libcallcount_");
  }

  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    LLVMContext &C = M.getContext();
    Type *I64 = Type::getInt64Ty(C);
    MapVector<Function *, GlobalVariable *> Counters; // in first-call order: deterministic output

    for (Function &F : M) {
      if (!infra::shouldInstrument(F))
        continue;
      for (Instruction &I : instructions(F)) {
        auto *Call = dyn_cast<CallBase>(&I);
        Function *Callee = Call ? infra::getCalledFunction(*Call) : nullptr;
        if (!Callee || !isLibraryCall(*Callee))
          continue;
        GlobalVariable *&Counter = Counters[Callee];
        if (!Counter)
          Counter = new GlobalVariable(M, I64, false, GlobalValue::PrivateLinkage, ConstantInt::get(I64, 0),
                                       "libcallcount." + Callee->getName());
        IRBuilder<> B(Call);
        B.CreateAtomicRMW(AtomicRMWInst::Add, Counter, ConstantInt::get(I64, 1), MaybeAlign(8),
                          AtomicOrdering::Monotonic);
      }
    }
    if (Counters.empty())
      return PreservedAnalyses::all();

    // void __libcallcount_register(const char *name, uint64_t *counter), from the runtime
    PointerType *Ptr = PointerType::getUnqual(C);
    FunctionCallee Register = M.getOrInsertFunction("__libcallcount_register", Type::getVoidTy(C), Ptr, Ptr);
    Function *Init = infra::createNoInstrumentFunction(M, "libcallcount_init");
    IRBuilder<> B(&Init->getEntryBlock());
    for (auto &[Callee, Counter] : Counters)
      B.CreateCall(Register, {infra::getStringConstant(M, Callee->getName()), Counter});
    B.CreateRetVoid();
    infra::addEarlyConstructor(M, Init);
    return PreservedAnalyses::none();
  }
};
} // namespace

// `libcallcount` is now a pass name: opt -passes=libcallcount, LLVMPasses.runPasses(ctx, 'start', 'libcallcount')
INFRA_MODULE_PASS("libcallcount", LibCallCountPass);
