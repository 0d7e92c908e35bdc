// Issue 25: does glibc reuse a freed block without page faults? Allocates, touches and frees blocks of 256 KB-100 MB
// on the main thread and on a second thread; prints faults per touched page of 10 reuses (0 = reused, 1 = fresh pages).
// gcc -O0 -pthread bench/profile/malloc-faults.c -o /tmp/mf && /tmp/mf && env $(sed -n "s/^baton.native.env=//p" conf/jvm.properties) /tmp/mf
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
static long flt(){ struct rusage r; getrusage(RUSAGE_THREAD,&r); return r.ru_minflt; }
static void probe(const char* who){
  size_t sizes[] = {256<<10, 4<<20, 40<<20, 100<<20};
  for (int i=0;i<4;i++){
    char* p = malloc(sizes[i]); memset(p,1,sizes[i]); __asm__ volatile("" :: "r"(p) : "memory"); free(p);
    long f0 = flt();
    for (int k=0;k<10;k++){ char* q = malloc(sizes[i]); memset(q,1,sizes[i]); __asm__ volatile("" :: "r"(q) : "memory"); free(q);}
    long pages = sizes[i]/4096*10;
    printf("%s size=%6zuKB faults/touched-pages=%.2f\n", who, sizes[i]>>10, (double)(flt()-f0)/pages);
  }
}
static void* th(void* a){ probe("thread"); return 0; }
int main(){ probe("main  "); pthread_t t; pthread_create(&t,0,th,0); pthread_join(t,0); return 0; }
