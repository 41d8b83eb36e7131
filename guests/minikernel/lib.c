/* minikernel: the few libc functions the kernel needs (gcc may also call memset/memcpy itself). */
#include "kernel.h"

void *memset(void *d, int c, u32 n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, u32 n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

void strlcpy(char *d, const char *s, u32 n) {
  u32 i = 0;
  for (; i + 1 < n && s[i]; i++) d[i] = s[i];
  if (n) d[i] = 0;
}
