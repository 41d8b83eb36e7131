/* minikernel user library. */
#include "ulib.h"

struct obuf {
  char b[256];
  u32 n;
};

static void obuf_put(char c, void *ctx) {
  struct obuf *o = ctx;
  if (o->n == sizeof o->b) {
    write(1, o->b, o->n);
    o->n = 0;
  }
  o->b[o->n++] = c;
}

/* One write() per printf (or per 256 bytes), so output stays whole lines. */
void printf(const char *fmt, ...) {
  struct obuf o;
  o.n = 0;
  va_list ap;
  va_start(ap, fmt);
  vformat(obuf_put, &o, fmt, ap);
  va_end(ap);
  if (o.n) write(1, o.b, o.n);
}

struct sbuf {
  char *p;
  u32 n, cap;
};
static void sbuf_put(char c, void *ctx) {
  struct sbuf *s = ctx;
  if (s->n + 1 < s->cap) s->p[s->n++] = c;
}

void snformat(char *buf, u32 size, const char *fmt, ...) {
  struct sbuf s = {buf, 0, size};
  va_list ap;
  va_start(ap, fmt);
  vformat(sbuf_put, &s, fmt, ap);
  va_end(ap);
  if (size) buf[s.n] = 0;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (u8)*a - (u8)*b;
}

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
