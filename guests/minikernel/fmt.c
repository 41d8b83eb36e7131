/* printf-style formatting shared by the kernel and the user library: %d %u %x %X %s %c %%,
 * with an optional '-' (left-align), '0' (zero-pad) and a field width. */
#include <stdarg.h>
#include "abi.h"

static int emit_num(void (*put)(char, void *), void *ctx, u32 v, int base, int upper, int neg, int width, int zero,
                    int left) {
  char buf[12];
  int n = 0, out = 0;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    buf[n++] = digits[v % (u32)base];
    v /= (u32)base;
  } while (v);
  int len = n + (neg ? 1 : 0);
  if (neg && zero) put('-', ctx), out++;
  if (!left)
    for (; len < width; width--) put(zero ? '0' : ' ', ctx), out++;
  if (neg && !zero) put('-', ctx), out++;
  while (n) put(buf[--n], ctx), out++;
  if (left)
    for (; len < width; width--) put(' ', ctx), out++;
  return out;
}

int vformat(void (*put)(char, void *), void *ctx, const char *fmt, va_list ap) {
  int out = 0;
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(*fmt, ctx);
      out++;
      continue;
    }
    int left = 0, zero = 0, width = 0;
    fmt++;
    for (;; fmt++) {
      if (*fmt == '-') left = 1;
      else if (*fmt == '0') zero = 1;
      else break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    switch (*fmt) {
    case 'd': {
      int v = va_arg(ap, int);
      out += emit_num(put, ctx, v < 0 ? -(u32)v : (u32)v, 10, 0, v < 0, width, zero, left);
      break;
    }
    case 'u': out += emit_num(put, ctx, va_arg(ap, u32), 10, 0, 0, width, zero, left); break;
    case 'x': out += emit_num(put, ctx, va_arg(ap, u32), 16, 0, 0, width, zero, left); break;
    case 'X': out += emit_num(put, ctx, va_arg(ap, u32), 16, 1, 0, width, zero, left); break;
    case 'c': put((char)va_arg(ap, int), ctx), out++; break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      int len = 0;
      while (s[len]) len++;
      if (!left)
        for (; len < width; width--) put(' ', ctx), out++;
      for (int i = 0; s[i]; i++) put(s[i], ctx), out++;
      if (left)
        for (; len < width; width--) put(' ', ctx), out++;
      break;
    }
    case '%': put('%', ctx), out++; break;
    case 0: return out;
    default: put('%', ctx), put(*fmt, ctx), out += 2;
    }
  }
  return out;
}
