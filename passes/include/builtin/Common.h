// Helpers shared by pass implementations. Include with `#include "builtin/Common.h"`.
#ifndef INFRA_BUILTIN_COMMON_H
#define INFRA_BUILTIN_COMMON_H

#include "infra/Registry.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

namespace infra {

// Prefix of functions that instrumentation must leave alone (see runtime-include/noinstrument.h).
constexpr const char *NoInstrumentPrefix = "__noinstrument_";
// Prefix of runtime helpers that the custominline pass inlines into instrumented code.
constexpr const char *InlinePrefix = "__noinstrument__inline_";

inline bool isNoInstrument(const llvm::Function &F) {
  return F.getName().starts_with(NoInstrumentPrefix);
}

// True for functions a pass should instrument: defined here, not marked NOINSTRUMENT.
inline bool shouldInstrument(const llvm::Function &F) {
  return !F.isDeclaration() && !isNoInstrument(F);
}

// The called function of a direct call, null for indirect calls and inline asm.
inline llvm::Function *getCalledFunction(const llvm::CallBase &CB) {
  return llvm::dyn_cast<llvm::Function>(CB.getCalledOperand()->stripPointerCasts());
}

// Creates (or returns) an internal `void NAME(void)` function with an empty entry block.
inline llvm::Function *createNoInstrumentFunction(llvm::Module &M, llvm::StringRef Name) {
  llvm::LLVMContext &C = M.getContext();
  auto *FT = llvm::FunctionType::get(llvm::Type::getVoidTy(C), false);
  llvm::Function *F = llvm::Function::Create(FT, llvm::GlobalValue::InternalLinkage,
                                             (llvm::Twine(NoInstrumentPrefix) + Name), &M);
  llvm::BasicBlock::Create(C, "entry", F);
  return F;
}

// Registers F as a constructor that runs before those of ordinary code.
inline void addEarlyConstructor(llvm::Module &M, llvm::Function *F, int Priority = 0) {
  llvm::appendToGlobalCtors(M, F, Priority);
}

// A private constant C string in the module (one per distinct content).
inline llvm::Constant *getStringConstant(llvm::Module &M, llvm::StringRef S) {
  llvm::IRBuilder<> B(M.getContext());
  std::string Name = ("infra.str." + S).str();
  if (llvm::GlobalVariable *G = M.getNamedGlobal(Name))
    return G;
  auto *Init = llvm::ConstantDataArray::getString(M.getContext(), S);
  auto *G = new llvm::GlobalVariable(M, Init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                     Init, Name);
  G->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return G;
}

} // namespace infra

#endif
