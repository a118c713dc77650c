// Linux's epoll and eventfd, which Glibc's Swift module does not import: the curl loop waits on its
// sockets with them.
#ifndef POLLBENCH_CEPOLL_SHIM_H
#define POLLBENCH_CEPOLL_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
