// Shim for OpenBLAS's CBLAS interface. The include folder comes from pkg-config ("openblas").
// No include guard named CBLAS_H here: that is OpenBLAS's own guard and would hide cblas.h.
#ifndef CONVENGINE_CBLAS_SHIM_H
#define CONVENGINE_CBLAS_SHIM_H
#include <cblas.h>
#endif
