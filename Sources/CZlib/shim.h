// Shim for the system zlib. The include folder comes from pkg-config ("zlib").
// inflateInit2 and deflateInit2 are function-like macros, which Swift does not import: these inline
// functions pass zlib's own version string and stream size through them, as the macros do.
#ifndef CONVENGINE_CZLIB_SHIM_H
#define CONVENGINE_CZLIB_SHIM_H
#include <zlib.h>

static inline int convengine_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int convengine_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
