/**
 * Shared Playwright fixture: every test fails on an uncaught page error or a console error, in the
 * page or its worker.
 */
import { test as base, expect } from '@playwright/test';

export const test = base.extend<{ pageErrors: string[] }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
      });
      page.on('worker', (w) => {
        w.on('console', (m) => {
          if (m.type() === 'error') errors.push(`worker console.error: ${m.text()}`);
        });
      });
      await use(errors);
      expect(errors, 'the page reported errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
