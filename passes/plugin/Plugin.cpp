// The entry point of libpasses.so: registers every pass of the plugin (see infra/Registry.h)
// by name and runs the ones selected on the command line at the chosen extension points.
//
//   clang -fpass-plugin=libpasses.so -Xclang=-load -Xclang=libpasses.so \
//         -Xclang=-mllvm -Xclang=-infra-start-passes=a,b       (before optimization)
//         -Xclang=-mllvm -Xclang=-infra-last-passes=a,b        (after optimization)
//   lld --load-pass-plugin=libpasses.so, INFRA_LTO_OPTIONS='-infra-lto-passes=a,b'
//
// The options below exist only once the plugin is loaded. `-Xclang=-load` loads it into the
// compiler proper before that parses its LLVM options (clang 19 parses -mllvm before it loads
// -fpass-plugin plugins), and options given with `-Xclang=-mllvm` go to the compiler proper only,
// not to the integrated assembler (which never loads the plugin).
// lld parses -mllvm before it loads plugins, so options that the plugin defines cannot be
// given to lld that way; at link time they are read from the INFRA_LTO_OPTIONS variable.
//
// The entry point is weak: a source that defines its own llvmGetPassPluginInfo takes over.
#include "infra/Registry.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdlib>
#if __has_include("llvm/Plugins/PassPlugin.h")
#include "llvm/Plugins/PassPlugin.h"
#else
#include "llvm/Passes/PassPlugin.h"
#endif

using namespace llvm;

static cl::list<std::string> StartPasses("infra-start-passes", cl::CommaSeparated,
                                         cl::desc("infra passes to run before optimization"));
static cl::list<std::string> LastPasses("infra-last-passes", cl::CommaSeparated,
                                        cl::desc("infra passes to run after optimization"));
static cl::list<std::string> LtoPasses("infra-lto-passes", cl::CommaSeparated,
                                       cl::desc("infra passes to run early in full LTO"));

static void addPasses(ModulePassManager &MPM, const cl::list<std::string> &Names) {
  for (const std::string &Name : Names) {
    if (const infra::PassEntry *E = infra::findPass(Name)) {
      E->AddToModule(MPM);
      continue;
    }
    std::string Known;
    for (const infra::PassEntry &E : infra::registry())
      Known += (Known.empty() ? "" : ", ") + E.Name;
    // a usage error, not a compiler crash: no crash report, just the message
    errs() << "error: infra passes: unknown pass '" << Name << "'; known passes: " << Known << "\n";
    errs().flush();
    exit(1);
  }
}

// At link time options come from the environment (see above); parsed once per process.
static void parseLinkTimeOptions() {
  static bool Parsed = false;
  if (Parsed)
    return;
  Parsed = true;
  const char *Env = getenv("INFRA_LTO_OPTIONS");
  if (!Env || !*Env)
    return;
  SmallVector<StringRef, 8> Words;
  StringRef(Env).split(Words, ' ', -1, false);
  std::vector<std::string> Storage{"infra-passes"};
  for (StringRef W : Words)
    Storage.push_back(W.str());
  std::vector<const char *> Argv;
  for (const std::string &S : Storage)
    Argv.push_back(S.c_str());
  cl::ParseCommandLineOptions(Argv.size(), Argv.data(), "", &errs());
}

static void registerCallbacks(PassBuilder &PB) {
  PB.registerPipelineParsingCallback(
      [](StringRef Name, ModulePassManager &MPM, ArrayRef<PassBuilder::PipelineElement>) {
        const infra::PassEntry *E = infra::findPass(Name);
        if (!E)
          return false;
        E->AddToModule(MPM);
        return true;
      });
  PB.registerPipelineParsingCallback(
      [](StringRef Name, FunctionPassManager &FPM, ArrayRef<PassBuilder::PipelineElement>) {
        const infra::PassEntry *E = infra::findPass(Name);
        if (!E || !E->AddToFunction)
          return false;
        E->AddToFunction(FPM);
        return true;
      });
  PB.registerPipelineStartEPCallback(
      [](ModulePassManager &MPM, OptimizationLevel) { addPasses(MPM, StartPasses); });
#if LLVM_VERSION_MAJOR >= 20
  PB.registerOptimizerLastEPCallback(
      [](ModulePassManager &MPM, OptimizationLevel, ThinOrFullLTOPhase) { addPasses(MPM, LastPasses); });
#else
  PB.registerOptimizerLastEPCallback(
      [](ModulePassManager &MPM, OptimizationLevel) { addPasses(MPM, LastPasses); });
#endif
  PB.registerFullLinkTimeOptimizationEarlyEPCallback([](ModulePassManager &MPM, OptimizationLevel) {
    parseLinkTimeOptions();
    addPasses(MPM, LtoPasses);
  });
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "infra-passes", "1", registerCallbacks};
}
