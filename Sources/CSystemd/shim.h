#ifndef KUBEIP_CSYSTEMD_SHIM_H
#define KUBEIP_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-bus.h>
#endif
