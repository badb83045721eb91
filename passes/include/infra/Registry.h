// Registration of passes in the infra's pass plugin.
//
// A pass source registers itself once, at file scope:
//   INFRA_MODULE_PASS("my-pass", MyPass)      // MyPass: a new-PM module pass
//   INFRA_FUNCTION_PASS("my-fpass", MyFPass)  // MyFPass: a new-PM function pass
// The plugin (plugin/Plugin.cpp) then makes the name usable in `opt -passes=my-pass`, and in
// clang/lld through the -infra-start-passes / -infra-last-passes / -infra-lto-passes options.
#ifndef INFRA_REGISTRY_H
#define INFRA_REGISTRY_H

#include "llvm/IR/PassManager.h"
#include <functional>
#include <string>
#include <vector>

namespace infra {

struct PassEntry {
  std::string Name;
  std::function<void(llvm::ModulePassManager &)> AddToModule;
  // null for module passes
  std::function<void(llvm::FunctionPassManager &)> AddToFunction;
};

// One registry per plugin: an inline function's static is shared by all its sources.
inline std::vector<PassEntry> &registry() {
  static std::vector<PassEntry> Entries;
  return Entries;
}

inline const PassEntry *findPass(llvm::StringRef Name) {
  for (const PassEntry &E : registry())
    if (E.Name == Name)
      return &E;
  return nullptr;
}

template <typename PassT> struct ModulePassRegistrar {
  explicit ModulePassRegistrar(const char *Name) {
    registry().push_back({Name, [](llvm::ModulePassManager &MPM) { MPM.addPass(PassT()); }, nullptr});
  }
};

template <typename PassT> struct FunctionPassRegistrar {
  explicit FunctionPassRegistrar(const char *Name) {
    registry().push_back({Name,
                          [](llvm::ModulePassManager &MPM) {
                            MPM.addPass(llvm::createModuleToFunctionPassAdaptor(PassT()));
                          },
                          [](llvm::FunctionPassManager &FPM) { FPM.addPass(PassT()); }});
  }
};

} // namespace infra

#define INFRA_CONCAT_(A, B) A##B
#define INFRA_CONCAT(A, B) INFRA_CONCAT_(A, B)
#define INFRA_MODULE_PASS(NAME, CLASS)                                                             \
  static ::infra::ModulePassRegistrar<CLASS> INFRA_CONCAT(InfraRegistrar, __LINE__)(NAME)
#define INFRA_FUNCTION_PASS(NAME, CLASS)                                                           \
  static ::infra::FunctionPassRegistrar<CLASS> INFRA_CONCAT(InfraRegistrar, __LINE__)(NAME)

#endif
