/** One sentence per kind of translated instruction, from the translator's own classification. */
import type { TranslationRowView } from '../../hypervisor/binary-translation/info.ts';

export function explainRow(r: TranslationRowView): string {
  const how = r.rewritten;
  if (how === '') return 'IDENT: copied unchanged, it runs directly at real ring 1.';
  if (how === 'callout') {
    const fired = `fired ${r.callouts} time${r.callouts === 1 ? '' : 's'}`;
    return `Callout: int 0xBB enters the VMM, which does what the guest asked on its virtual CPU (${fired}).`;
  }
  if (how.startsWith('inline: clear the virtual IF'))
    return 'Inline: CLI becomes one store to the virtual IF in the VMM area — no VMM entry at all.';
  if (how === 'inline lookup')
    return 'Inline: RET pops the guest return address and jumps through the lookup table to its TC unit.';
  if (how.startsWith('push guest return EIP'))
    return 'Rewritten: CALL pushes the guest return address (never a TC one), then jumps within the TC.';
  if (how.startsWith('jcc') || how.startsWith('jmp'))
    return 'Rewritten: the branch targets the TC — an exit stub until it is chained to the successor unit.';
  if (how.startsWith('loop')) return 'Rewritten: LOOP/JECXZ with both exits re-targeted into the TC.';
  return `Rewritten (${how}).`;
}
