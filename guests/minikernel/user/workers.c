/* minikernel background processes. They never print (the console belongs to the shell); they
 * publish a progress counter with report(), which `ps` shows. */
#include "ulib.h"

/* primes: trial division in batches of 400 candidates, then a 20 ms nap. */
int primes_main(void) {
  u32 n = 2, found = 0;
  for (;;) {
    for (int k = 0; k < 400; k++, n++) {
      int prime = 1;
      for (u32 d = 2; d * d <= n; d++)
        if (n % d == 0) {
          prime = 0;
          break;
        }
      found += (u32)prime;
    }
    report(found);
    sleep(2);
  }
}

/* pager: touches one new heap page every half second (each a demand-zero page fault), checks
 * the earlier ones kept their contents, and exits with the page count after 16 pages. */
int pager_main(void) {
  volatile u32 *heap = (volatile u32 *)USER_HEAP;
  for (u32 i = 0; i < 16; i++) {
    if (heap[i * 1024] != 0) return 100 + (int)i; /* demand-zero pages must arrive zeroed */
    heap[i * 1024] = 0xA5A50000u + i;
    for (u32 j = 0; j <= i; j++)
      if (heap[j * 1024] != 0xA5A50000u + j) return 200 + (int)j;
    report(i + 1);
    sleep(50);
  }
  return 16;
}

/* counter: bursts of pure computation that give the CPU away with yield(), then a 1 s sleep. */
int counter_main(void) {
  u32 count = 0;
  for (;;) {
    for (int burst = 0; burst < 10; burst++) {
      for (u32 k = 0; k < 20000; k++) {
        count++;
        __asm__ volatile("" ::: "memory");
      }
      report(count);
      yield();
    }
    sleep(100);
  }
}
