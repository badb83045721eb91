// Allocated types of heap allocations, as found by the sizeof-types pass (builtin/SizeofTypes.cpp)
// from the `sizeof` in the allocation's size: `malloc(10 * sizeof(struct node))` allocates
// `struct node`. The pass records the type on the call as `!infra.sizeof.type !{!"struct node"}`
// (the canonical C/C++ type name, typedefs resolved); these helpers read it back.
//
//   if (auto T = infra::getSizeofType(*Call)) ... *T == "struct node" ...
//
// or, from a module pass, all of them at once:
//
//   const infra::SizeofTypes &Types = infra::getSizeofTypes(M, MAM);
#ifndef INFRA_BUILTIN_SIZEOFTYPES_H
#define INFRA_BUILTIN_SIZEOFTYPES_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include <optional>

namespace infra {

/** Metadata kind the sizeof-types pass attaches to allocation calls. */
constexpr const char *SizeofTypeMetadata = "infra.sizeof.type";

/** The type named by the sizeof in this allocation call's size, if the pass found one. */
inline std::optional<llvm::StringRef> getSizeofType(const llvm::Instruction &I) {
  if (const llvm::MDNode *N = I.getMetadata(SizeofTypeMetadata))
    if (N->getNumOperands() > 0)
      if (auto *S = llvm::dyn_cast_or_null<llvm::MDString>(N->getOperand(0)))
        return S->getString();
  return std::nullopt;
}

/** Every typed allocation call of a module (the strings live as long as the LLVMContext). */
struct SizeofTypes {
  llvm::DenseMap<const llvm::CallBase *, llvm::StringRef> Types;

  static SizeofTypes collect(llvm::Module &M) {
    SizeofTypes R;
    for (llvm::Function &F : M)
      for (llvm::Instruction &I : llvm::instructions(F))
        if (auto *CB = llvm::dyn_cast<llvm::CallBase>(&I))
          if (auto T = getSizeofType(*CB))
            R.Types[CB] = *T;
    return R;
  }

  std::optional<llvm::StringRef> lookup(const llvm::CallBase &CB) const {
    auto It = Types.find(&CB);
    if (It == Types.end())
      return std::nullopt;
    return It->second;
  }
};

/** The module analysis form of {@link SizeofTypes::collect}. */
struct SizeofTypesAnalysis : llvm::AnalysisInfoMixin<SizeofTypesAnalysis> {
  using Result = SizeofTypes;
  Result run(llvm::Module &M, llvm::ModuleAnalysisManager &) { return SizeofTypes::collect(M); }

private:
  friend llvm::AnalysisInfoMixin<SizeofTypesAnalysis>;
  // inline: one key per plugin, whichever sources include this header
  static inline llvm::AnalysisKey Key;
};

/** The analysis result, registering the analysis with MAM first if nobody did. */
inline const SizeofTypes &getSizeofTypes(llvm::Module &M, llvm::ModuleAnalysisManager &MAM) {
  // registers nothing when the analysis is registered already
  MAM.registerPass([] { return SizeofTypesAnalysis(); });
  return MAM.getResult<SizeofTypesAnalysis>(M);
}

} // namespace infra

#endif
