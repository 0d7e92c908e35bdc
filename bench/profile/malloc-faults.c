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
