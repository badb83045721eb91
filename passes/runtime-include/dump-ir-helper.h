/* DEBUG_MODULE_NAME("name"); at file scope names the file the dump-ir pass writes
 * (name.ll instead of the module's own name). */
#ifndef INFRA_DUMP_IR_HELPER_H
#define INFRA_DUMP_IR_HELPER_H

#define DEBUG_MODULE_NAME(name) \
  __attribute__((used)) const char __infra_debug_module_name[] = name

#endif
