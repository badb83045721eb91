// Recognizes allocation sites (stack, heap, globals) and describes them uniformly, so an
// instrumentation can treat `alloca`, `malloc(n)`, `calloc(n, m)`, `realloc(p, n)`,
// `operator new` and global variables the same way.
#ifndef INFRA_BUILTIN_ALLOCATION_H
#define INFRA_BUILTIN_ALLOCATION_H

#include "builtin/Common.h"
#include "llvm/IR/DataLayout.h"
#include <optional>

namespace infra {

struct AllocationSite {
  enum Kind { Stack, Heap, Global } AllocKind;
  // The allocating instruction (alloca or call); null for globals.
  llvm::Instruction *Allocation = nullptr;
  llvm::GlobalVariable *GlobalVar = nullptr;
  // Number of elements and element size as values; Size = NumElements * ElementSize.
  llvm::Value *NumElements = nullptr;
  llvm::Value *ElementSize = nullptr;
  // realloc: the pointer being resized.
  llvm::Value *OldPointer = nullptr;
  // Name of the allocating function ("malloc", ...), empty for stack and globals.
  std::string Function;

  bool isStack() const { return AllocKind == Stack; }
  bool isHeap() const { return AllocKind == Heap; }
  bool isGlobal() const { return AllocKind == Global; }

  // Total size in bytes, as an i64 computed right after the allocation.
  llvm::Value *getSize(llvm::IRBuilder<> &B) const {
    llvm::Type *I64 = B.getInt64Ty();
    llvm::Value *N = B.CreateZExtOrTrunc(NumElements, I64);
    llvm::Value *S = B.CreateZExtOrTrunc(ElementSize, I64);
    return B.CreateMul(N, S, "alloc.size");
  }
};

// Describes I if it allocates memory.
inline std::optional<AllocationSite> getAllocationSite(llvm::Instruction &I) {
  llvm::LLVMContext &C = I.getContext();
  llvm::Type *I64 = llvm::Type::getInt64Ty(C);
  auto one = [&] { return llvm::ConstantInt::get(I64, 1); };
  if (auto *AI = llvm::dyn_cast<llvm::AllocaInst>(&I)) {
    const llvm::DataLayout &DL = I.getModule()->getDataLayout();
    AllocationSite S{AllocationSite::Stack};
    S.Allocation = AI;
    S.NumElements = AI->getArraySize();
    S.ElementSize = llvm::ConstantInt::get(I64, DL.getTypeAllocSize(AI->getAllocatedType()).getFixedValue());
    return S;
  }
  auto *CB = llvm::dyn_cast<llvm::CallBase>(&I);
  if (!CB)
    return std::nullopt;
  llvm::Function *F = getCalledFunction(*CB);
  if (!F)
    return std::nullopt;
  llvm::StringRef Name = F->getName();
  AllocationSite S{AllocationSite::Heap};
  S.Allocation = CB;
  S.Function = Name.str();
  if ((Name == "malloc" || Name == "valloc" || Name == "_Znwm" || Name == "_Znam") && CB->arg_size() == 1) {
    S.NumElements = one();
    S.ElementSize = CB->getArgOperand(0);
  } else if (Name == "calloc" && CB->arg_size() == 2) {
    S.NumElements = CB->getArgOperand(0);
    S.ElementSize = CB->getArgOperand(1);
  } else if (Name == "realloc" && CB->arg_size() == 2) {
    S.OldPointer = CB->getArgOperand(0);
    S.NumElements = one();
    S.ElementSize = CB->getArgOperand(1);
  } else if ((Name == "aligned_alloc" || Name == "memalign") && CB->arg_size() == 2) {
    S.NumElements = one();
    S.ElementSize = CB->getArgOperand(1);
  } else {
    return std::nullopt;
  }
  return S;
}

inline AllocationSite getAllocationSite(llvm::GlobalVariable &G) {
  const llvm::DataLayout &DL = G.getParent()->getDataLayout();
  llvm::Type *I64 = llvm::Type::getInt64Ty(G.getContext());
  AllocationSite S{AllocationSite::Global};
  S.GlobalVar = &G;
  S.NumElements = llvm::ConstantInt::get(I64, 1);
  S.ElementSize = llvm::ConstantInt::get(I64, DL.getTypeAllocSize(G.getValueType()).getFixedValue());
  return S;
}

} // namespace infra

#endif
