// zlib's deflate/inflate for HdrHistogram's compressed histogram encoding.
#ifndef POLLBENCH_CZLIB_SHIM_H
#define POLLBENCH_CZLIB_SHIM_H
#include <zlib.h>
#endif
