#ifndef KUBEIP_CYAML_SHIM_H
#define KUBEIP_CYAML_SHIM_H
#include <yaml.h>
#endif
