import { describe, expect, it } from 'vitest';
import { tabAvailable, viewFromSearch, viewParams } from './link-view.ts';

describe('the view in a share link (tab, EPT address)', () => {
  it('round-trips the tab and the EPT address with its space', () => {
    const ept = { addr: 0xc0100000, space: 'linear' as const };
    const q = new URLSearchParams(viewParams('vmcs', ept));
    expect(q.toString()).toBe('tab=vmcs&ept=c0100000');
    expect(viewFromSearch(`?${q}`, 'hardware-assisted')).toEqual({ tab: 'vmcs', ept, errors: [] });
    const phys = { addr: 0x12345, space: 'guest-physical' as const };
    const q2 = new URLSearchParams(viewParams('vmcs', phys));
    expect(q2.toString()).toBe('tab=vmcs&ept=12345&eptspace=physical');
    expect(viewFromSearch(`?${q2}`, 'hardware-assisted').ept).toEqual(phys);
    // The default tab and no address add nothing to a link.
    expect(viewParams('code', null)).toEqual([]);
  });

  it('names each bad value and ignores it', () => {
    const v = viewFromSearch('?tab=nope&ept=0xZZ', 'hardware-assisted');
    expect(v.tab).toBeNull();
    expect(v.ept).toBeNull();
    expect(v.errors[0]).toMatch(/tab “nope” does not exist \(tabs: code, stats/);
    expect(v.errors[1]).toMatch(/EPT address “0xZZ” is not an address/);
    expect(viewFromSearch('?ept=1000&eptspace=virtual', 'hardware-assisted').errors[0]).toMatch(
      /space “virtual” is neither/,
    );
    // A tab the technique lacks, and an EPT address without an EPT.
    const n = viewFromSearch('?tab=vmcs&ept=1000', 'native');
    expect(n).toMatchObject({ tab: null, ept: null });
    expect(n.errors).toEqual([
      expect.stringMatching(/VMCS tab, which native does not have/),
      expect.stringMatching(/only hardware-assisted has an EPT/),
    ]);
    // A long value is clipped in the message.
    expect(viewFromSearch(`?tab=${'x'.repeat(500)}`, 'native').errors[0].length).toBeLessThan(200);
  });

  it('knows which technique has which tab', () => {
    expect(tabAvailable('translation', 'binary-translation')).toBe(true);
    expect(tabAvailable('translation', 'trap-and-emulate')).toBe(false);
    expect(tabAvailable('paging', 'paravirtual')).toBe(true);
    expect(tabAvailable('vmcs', 'hardware-assisted')).toBe(true);
    expect(tabAvailable('timeline', 'native')).toBe(true);
  });
});
