#ifndef LIAISON_CSQLITE_SHIM_H
#define LIAISON_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
