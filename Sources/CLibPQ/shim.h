#ifndef TRIAGE_CLIBPQ_SHIM_H
#define TRIAGE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
