/**
 * The trap log: a virtualised table over the worker's log (rows are fetched as packed slices for
 * the visible window only), filters by VM and kind, follow-tail, per-kind counts, and a detail pane
 * with the teaching explanation. Silent events are drawn differently: "invisible to the VMM".
 *
 * Which rows to draw is TanStack Virtual's (trap-virtualizer.ts), past the browser's ~33.5 M px
 * element-height clamp too: there the scrollbar is scaled (scaled-scroll.ts).
 */
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import {
  type ExportFormat,
  TRAP_INVISIBLE,
  type TrapDetail,
  type TrapFilter,
  type TrapNames,
} from '../worker/protocol.ts';
import { emulator, type TrapSliceReply } from './emulator.ts';
import { fmtCount, fmtTimeNs, hex } from './format.ts';
import { useUi } from './store.ts';
import { TrapRegs } from './TrapRegs.tsx';
import './trap-log.css';
import { useTrapVirtualizer } from './trap-virtualizer.ts';
import { ExitReasonFilter } from './vmcs/ExitReasons.tsx';

const OVERSCAN = 12;
/**
 * Rows drawn beyond the view while following the tail. Nothing lies below the tail and nobody
 * scrolls while following (scrolling turns it off), so rows above the view are only drawn and
 * laid out for nothing: with 12 of them the table drew 28 rows (310 elements) at 1920×1080 for 16
 * seen, all rewritten on every update of a log that grows by thousands a second — the largest
 * share of what the page laid out while four VMs ran flat out.
 */
const FOLLOW_OVERSCAN = 1;

function useRowHeight(): number {
  const classroom = useUi((s) => s.classroom);
  return classroom ? 32 : 24;
}

export function kindClass(kind: number): string {
  // One colour per kind (styles.css --k0…--k19); any later kind reuses the palette.
  return `k${kind % 20}`;
}

function EmptyState() {
  const technique = useUi((s) => s.scenario.technique);
  const loaded = useUi((s) => s.loaded);
  const running = useUi((s) => s.status?.running ?? false);
  const kinds = useUi(
    (s) =>
      s.trapFilter.kinds.length > 0 ||
      s.trapFilter.vm !== null ||
      (s.trapFilter.exitReasons?.length ?? 0) > 0,
  );
  if (!loaded) return <div className="empty">Load a guest to start its trap log.</div>;
  if (kinds) return <div className="empty">No records match the filter.</div>;
  if (technique === 'native') {
    return (
      <div className="empty rich" data-testid="traps-empty-native">
        <strong>No traps under native execution.</strong>
        <p>
          With no VMM, the guest owns the (emulated) machine: its privileged instructions, port I/O and
          interrupts go straight to the CPU and devices. Nothing intercepts them, so there is nothing to log.
        </p>
        <p>
          Choose <em>Trap-and-emulate</em> as the technique to run the same guest deprivileged and watch the
          VMM catch every sensitive instruction here, one record per trap.
        </p>
      </div>
    );
  }
  return (
    <div className="empty rich">
      <strong>No traps yet.</strong>
      <p>
        {running
          ? 'The guest has not done anything the VMM intercepts so far.'
          : 'Press Run, or Next trap to stop at the first one.'}
      </p>
    </div>
  );
}

/** Pin the disassembly at a record's instruction (linear = CS base + EIP when CS is the current one). */
function showCode(d: TrapDetail): void {
  const ui = useUi.getState();
  const cs = ui.regs?.real.segs.find((s) => s.name === 'cs');
  // Compare descriptor indices only: a VMM's ring compression changes the RPL, not the segment.
  const sameCs = cs !== undefined && (cs.selector & 0xfffc) === (d.cs & 0xfffc);
  const addr = sameCs ? (cs.base + d.eip) >>> 0 : d.eip;
  ui.set({
    codeAt: {
      addr,
      label: `record ${d.index} at ${hex(d.cs, 4)}:${hex(d.eip)}${sameCs ? '' : ' (offset only)'}`,
    },
    rightTab: 'code',
  });
}

function Detail({ index, onClose }: { index: number; onClose: () => void }) {
  const [d, setD] = useState<TrapDetail | null | undefined>(undefined);
  const wide = useUi((s) => s.detailWide);
  const set = useUi((s) => s.set);
  const [more, setMore] = useState(false);
  const longText = more || wide;
  useEffect(() => {
    let live = true;
    setD(undefined);
    emulator()
      .trapDetail(index)
      .then((r) => live && setD(r))
      .catch(() => live && setD(null));
    return () => {
      live = false;
    };
  }, [index]);
  return (
    <aside className="trap-detail" data-testid="trap-detail" aria-label="Trap record detail">
      <div className="detail-head">
        {d ? <span className={`kind-badge ${kindClass(d.kind)}`}>{d.kindName}</span> : null}
        <span className="muted">record {index}</span>
        {d?.invisible ? <span className="invisible-badge">invisible to the VMM</span> : null}
        <span className="spacer" />
        <button
          type="button"
          className="btn ghost small"
          onClick={() => set({ detailWide: !wide })}
          aria-pressed={wide}
          data-testid="detail-wide"
          title={wide ? 'Back beside the table' : 'Use the whole trap-log panel for this record'}
        >
          {wide ? '⇥ beside' : '⤢ wide'}
        </button>
        <button type="button" className="btn ghost small" onClick={onClose} aria-label="Close the detail">
          ✕
        </button>
      </div>
      {d === undefined ? <div className="muted">Loading…</div> : null}
      {d === null ? <div className="muted">This record is no longer held in the log.</div> : null}
      {d ? (
        <>
          {d.summary ? (
            <p className="trap-summary" data-testid="trap-summary">
              {d.summary}
            </p>
          ) : null}
          {d.explanation ? (
            <>
              <p className={`explanation ${longText ? '' : 'clamped'}`}>{d.explanation}</p>
              {d.explanation.length > 220 && !wide ? (
                <button type="button" className="link small explanation-more" onClick={() => setMore(!more)}>
                  {longText ? 'less' : 'read more'}
                </button>
              ) : null}
            </>
          ) : null}
          <TrapRegs d={d} />
          <button
            type="button"
            className="btn small"
            onClick={() => showCode(d)}
            data-testid="trap-show-code"
          >
            Show this instruction in the disassembly
          </button>
          <dl className="fields">
            {d.fields.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd className="mono">{v}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
    </aside>
  );
}

async function download(format: ExportFormat): Promise<void> {
  const ui = useUi.getState();
  try {
    const r = await emulator().exportTraps(format);
    const name = `traplab-${ui.uploadName ?? ui.scenario.guestId}-${ui.loaded?.technique ?? ui.scenario.technique}`;
    const blob = new Blob([r.bytes as Uint8Array<ArrayBuffer>], {
      type: format === 'jsonl' ? 'application/jsonl' : 'application/json',
    });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = format === 'jsonl' ? `${name}.jsonl` : `${name}.trace.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    const held = ui.stats?.trapHeld ?? r.records;
    ui.toast(
      `Exported ${r.records.toLocaleString()} records${r.records < held ? ` (the newest ${r.records.toLocaleString()} of ${held.toLocaleString()})` : ''}${format === 'trace' ? ' — open it in ui.perfetto.dev or chrome://tracing' : ''}.`,
      'info',
    );
  } catch (e) {
    ui.toast(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function ExportButtons({ disabled }: { disabled: boolean }) {
  return (
    <span className="export-btns">
      <button
        type="button"
        className="btn ghost small"
        disabled={disabled}
        onClick={() => download('jsonl')}
        title="Download the log as JSON Lines (one record per line)"
        data-testid="export-jsonl"
      >
        ⤓ JSONL
      </button>
      <button
        type="button"
        className="btn ghost small"
        disabled={disabled}
        onClick={() => download('trace')}
        title="Download a Chrome/Perfetto trace (one instant event per record, one track per VM)"
        data-testid="export-trace"
      >
        ⤓ Trace
      </button>
    </span>
  );
}

interface RowHandlers {
  select(idx: number): void;
  toggle(head: number, len: number, open: boolean): void;
}

const TrapRowsView = memo(function TrapRowsView({
  data,
  first,
  count,
  rowH,
  selected,
  names,
  onRow,
}: {
  data: TrapSliceReply | null;
  first: number;
  count: number;
  rowH: number;
  selected: number | null;
  names: TrapNames | undefined;
  onRow: { current: RowHandlers };
}) {
  const rows: React.ReactNode[] = [];
  if (data) {
    const r = data.rows;
    for (let i = 0; i < count; i++) {
      const pos = first + i;
      const j = pos - data.start;
      if (j < 0 || j >= r.index.length) {
        rows.push(
          <div key={i} className="trow placeholder" style={{ height: rowH }}>
            <span className="c-idx mono">…</span>
          </div>,
        );
        continue;
      }
      const idx = r.index[j];
      const inv = (r.flags[j] & TRAP_INVISIBLE) !== 0;
      const kind = r.kind[j];
      const g = data.groups;
      const gLen = g?.len[j] ?? 0;
      const gState = g?.state[j] ?? 0;
      rows.push(
        // Keyed by position in the window, not by record: as the tail moves, each row element
        // takes the next record's text in place instead of rows being removed and created.
        // biome-ignore lint/a11y/useSemanticElements: a virtualised grid row, not a form control
        <div
          key={i}
          role="row"
          tabIndex={-1}
          aria-selected={selected === idx}
          className={`trow ${inv ? 'invisible' : ''} ${selected === idx ? 'selected' : ''} ${gLen ? 'group-head' : ''} ${gState === 2 ? 'group-member' : ''}`}
          style={{ height: rowH }}
          data-testid="trap-row"
          onClick={() => onRow.current.select(idx)}
          onKeyDown={(e) => e.key === 'Enter' && onRow.current.select(idx)}
        >
          <span className="c-idx mono">{r.seq[j]}</span>
          <span className="c-time mono">{fmtTimeNs(r.timeNs[j])}</span>
          <span className="c-vm mono">{r.vm[j]}</span>
          <span className="c-kind">
            <span className={`kind-badge ${kindClass(kind)}`}>{names?.kinds[kind] ?? kind}</span>
          </span>
          <span className="c-reason">
            {gLen ? (
              <button
                type="button"
                className="group-toggle"
                data-testid="group-toggle"
                aria-expanded={gState === 1}
                title={
                  gState === 1
                    ? 'Collapse these repeats into one row'
                    : `${gLen.toLocaleString()} records repeating a cycle of ${g!.period[j]}: show them one by one`
                }
                onClick={(e) => {
                  e.stopPropagation();
                  onRow.current.toggle(idx, gLen, gState === 1);
                }}
              >
                {gState === 1 ? '▾' : '▸'} ×{fmtCount(gLen)}
              </button>
            ) : null}
            {gLen && gState !== 1 && g!.period[j] > 1 ? g!.cycle[j] : data.reasons[j]}
          </span>
          <span className="c-eip mono">
            {hex(r.cs[j], 4)}:{hex(r.eip[j])}
          </span>
          <span className="c-insn mono">{data.insn[j]}</span>
          <span className="c-action">
            {inv ? (
              <span className="invisible-badge">invisible to the VMM</span>
            ) : (
              names?.actions[r.action[j]]
            )}
          </span>
          <span className="c-cost mono">{r.cost[j] ? fmtCount(r.cost[j]) : ''}</span>
        </div>,
      );
    }
  }

  return <>{rows}</>;
});

export function TrapLog() {
  const rowH = useRowHeight();
  const loaded = useUi((s) => s.loaded);
  const trapTotal = useUi((s) => s.stats?.trapTotal ?? 0);
  const trapDropped = useUi((s) => s.stats?.trapDropped ?? 0);
  const byKind = useUi(useShallow((s) => s.stats?.trapsByKind ?? []));
  const trapVersion = useUi((s) => s.trapVersion);
  const filterSel = useUi((s) => s.trapFilter);
  const follow = useUi((s) => s.follow);
  const selected = useUi((s) => s.selectedTrap);
  const detailWide = useUi((s) => s.detailWide);
  const set = useUi((s) => s.set);
  const [data, setData] = useState<TrapSliceReply | null>(null);
  const inflight = useRef(false);
  const again = useRef(false);
  const names = loaded?.names;
  // Repeats grouped (worker side, trap-groups.ts); groups holding these log indices are expanded.
  const [grouped, setGrouped] = useState(false);
  const [expanded, setExpanded] = useState<number[]>([]);
  const expand = selected === null ? expanded : [...expanded, selected];
  const groupKey = grouped ? expand.join(',') : '';

  const filter: TrapFilter = {};
  if (filterSel.vm !== null) filter.vm = filterSel.vm;
  if (filterSel.kinds.length) filter.kinds = filterSel.kinds;
  if (filterSel.exitReasons?.length) filter.exitReasons = filterSel.exitReasons;
  const filterKey = JSON.stringify(filter);

  const total = data?.total ?? 0;
  const rowsView = useTrapVirtualizer({
    total,
    rowH,
    follow,
    overscan: follow ? FOLLOW_OVERSCAN : OVERSCAN,
    // The user scrolled (our own writes are told apart): leaving the bottom stops following the
    // tail, reaching it starts again.
    onUserScroll: (atBottom) => {
      const following = useUi.getState().follow;
      if (!atBottom && following) set({ follow: false });
      else if (atBottom && !following && total > 0) set({ follow: true });
    },
  });
  const { items, visible, geometry } = rowsView;
  const scroller = rowsView.scrollerRef;
  const first = items[0]?.index ?? 0;
  const last = items.length ? items[items.length - 1].index + 1 : 0;

  // Fetch the window around `first` (one request in flight; re-request if the view moved).
  const want = useRef<{ start: number; end: number; filter: TrapFilter; group?: { expand: number[] } }>({
    start: 0,
    end: 0,
    filter,
  });
  want.current = {
    start: first,
    end: Math.max(last, first + visible + 2 * OVERSCAN),
    filter,
    ...(grouped ? { group: { expand } } : {}),
  };
  const fetchWindow = useCallback(() => {
    if (!useUi.getState().loaded) return;
    if (inflight.current) {
      again.current = true;
      return;
    }
    inflight.current = true;
    const w = want.current;
    // Following, ask for the tail as the worker finds the log (one round trip, whatever it has
    // grown to since the update that asked).
    const fetched = useUi.getState().follow
      ? emulator().trapSlice(0, 0, w.filter, w.group, visible + FOLLOW_OVERSCAN)
      : emulator().trapSlice(w.start, w.end, w.filter, w.group);
    fetched
      .then((r) => setData(r))
      .catch(() => {})
      .finally(() => {
        inflight.current = false;
        if (again.current) {
          again.current = false;
          fetchWindow();
        }
      });
  }, [visible]);

  // Following, the tail is fetched whatever the scroll offset: our own scrolling to the bottom
  // must not fetch the same rows a second time.
  const firstKey = follow ? -1 : first;
  // biome-ignore lint/correctness/useExhaustiveDependencies: refetch on these triggers
  useEffect(fetchWindow, [trapVersion, filterKey, firstKey, visible, loaded, follow, groupKey]);

  useEffect(() => {
    if (!loaded) setData(null);
    setExpanded([]);
  }, [loaded]);

  /** Open or close the group whose first record is `head` (`len` records). */
  const toggleGroup = (head: number, len: number, open: boolean) => {
    setExpanded((e) => (open ? e.filter((i) => i < head || i >= head + len) : [...e, head]));
    if (open && selected !== null && selected > head && selected < head + len) set({ selectedTrap: head });
  };

  // Following the tail, the virtualizer keeps the newest row at the bottom (trap-virtualizer.ts);
  // a row-height change (classroom mode) keeps the same rows in view there too.

  // A link's selected trap, a stop (Next trap, Until) or a click on the timeline: bring its row
  // into view (unfiltered and ungrouped, the row is the log index).
  const reveal = useUi((s) => s.revealTrap);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when a reveal is asked for (or rows arrive)
  useLayoutEffect(() => {
    if (reveal === null || total === 0) return;
    set({ revealTrap: null });
    if (filterKey !== '{}' || follow || grouped) return;
    rowsView.scrollToRow(reveal, 'center');
  }, [reveal, total]);

  // ↑/↓ move the selection through the (filtered) rows, Home/End go to the first and last row;
  // the view follows.
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      // End is the newest record: follow the tail from there, as scrolling to the bottom does.
      set({ follow: e.key === 'End' && total > 0 });
      rowsView.scrollToRow(e.key === 'Home' ? 0 : total - 1, e.key === 'Home' ? 'start' : 'end');
      return;
    }
    if ((e.key !== 'ArrowDown' && e.key !== 'ArrowUp') || selected === null || !data) return;
    const j = data.rows.index.indexOf(selected);
    if (j < 0) return;
    const k = j + (e.key === 'ArrowDown' ? 1 : -1);
    if (k < 0 || k >= data.rows.index.length) return;
    e.preventDefault();
    set({ selectedTrap: data.rows.index[k], follow: false });
    rowsView.scrollToRow(data.start + k, 'auto');
  };

  const toggleKind = (k: number) => {
    const kinds = filterSel.kinds.includes(k)
      ? filterSel.kinds.filter((x) => x !== k)
      : [...filterSel.kinds, k];
    set({ trapFilter: { ...filterSel, kinds }, selectedTrap: null });
  };

  // Rows to draw: positions among matching records, as the virtualizer lists them (a contiguous
  // range). A memoised component: the table re-renders four times a second for its header's counts
  // while the guests run, and its rows change only when a fetch brings new ones.
  const onRow = useRef({ select: (_idx: number) => {}, toggle: (_h: number, _l: number, _o: boolean) => {} });
  onRow.current = {
    select: (idx) => {
      set({ selectedTrap: idx });
      scroller.current?.focus({ preventScroll: true });
    },
    toggle: toggleGroup,
  };
  const rows = (
    <TrapRowsView
      data={data}
      first={first}
      count={items.length}
      rowH={rowH}
      selected={selected}
      names={names}
      onRow={onRow}
    />
  );

  return (
    <div
      className={`traplog ${selected !== null ? 'with-detail' : ''} ${selected !== null && detailWide ? 'detail-wide' : ''}`}
      data-testid="traplog"
    >
      <div className="panel-head">
        <h2>Trap log</h2>
        <span
          className="muted small"
          data-testid="trap-total"
          data-total={trapTotal}
          data-dropped={trapDropped}
        >
          {fmtCount(trapTotal)} records
          {trapDropped ? ` · ${fmtCount(trapDropped)} oldest dropped` : ''}
          {filterKey !== '{}' && !grouped ? ` · ${fmtCount(total)} match` : ''}
          {grouped ? ` · ${fmtCount(total)} rows` : ''}
        </span>
        <span className="spacer" />
        <label
          className="toggle"
          title="Collapse runs of repeated records (the same 1–4 traps over and over, like UART polling) into one row each; stepping still stops on single records"
        >
          <input
            type="checkbox"
            checked={grouped}
            onChange={(e) => {
              setGrouped(e.target.checked);
            }}
            data-testid="group-repeats"
          />
          group repeats
        </label>
        <label className="field inline">
          <span className="field-label">VM</span>
          <select
            data-testid="trap-vm-filter"
            value={filterSel.vm ?? ''}
            onChange={(e) => {
              set({
                trapFilter: { ...filterSel, vm: e.target.value === '' ? null : Number(e.target.value) },
                selectedTrap: null,
              });
            }}
          >
            <option value="">all</option>
            {Array.from({ length: loaded?.vms ?? 1 }, (_, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: VM numbers
              <option key={i} value={i}>
                {i}
              </option>
            ))}
          </select>
        </label>
        {loaded?.technique === 'hardware-assisted' ? <ExitReasonFilter /> : null}
        <ExportButtons disabled={trapTotal === 0} />
        <label className="toggle" title="Keep the newest record in view  [F]">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => set({ follow: e.target.checked })}
            data-testid="follow"
          />
          follow
        </label>
      </div>
      {names ? (
        <div className="kind-chips" data-testid="kind-chips">
          {names.kinds.map((k, i) => {
            const n = byKind[i] ?? 0;
            const on = filterSel.kinds.includes(i);
            if (n === 0 && !on) return null;
            return (
              <button
                type="button"
                key={k}
                className={`chip ${kindClass(i)} ${on ? 'on' : ''}`}
                aria-pressed={on}
                onClick={() => toggleKind(i)}
                title={on ? `Show all kinds again` : `Show only ${k} records`}
              >
                {k} <b>{fmtCount(n)}</b>
              </button>
            );
          })}
          {filterSel.kinds.length || filterSel.exitReasons?.length ? (
            <button
              type="button"
              className="link"
              data-testid="clear-filter"
              onClick={() => set({ trapFilter: { ...filterSel, kinds: [], exitReasons: undefined } })}
            >
              clear filter
            </button>
          ) : null}
        </div>
      ) : null}
      <div className="trap-body">
        <div className="trap-table">
          <div className="trow thead" style={{ height: rowH }}>
            <span className="c-idx">#</span>
            <span className="c-time">time</span>
            <span className="c-vm">VM</span>
            <span className="c-kind">kind</span>
            <span className="c-reason">reason</span>
            <span className="c-eip">CS:EIP</span>
            <span className="c-insn">instruction</span>
            <span className="c-action">VMM action</span>
            <span className="c-cost">cost</span>
          </div>
          <div className="trap-scroll-box">
            {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move the row selection */}
            <div
              className="trap-scroll"
              ref={scroller}
              onKeyDown={onKeyDown}
              tabIndex={-1}
              data-testid="trap-scroll"
            >
              <div style={{ height: geometry.spacerH, position: 'relative' }} data-scaled={geometry.scaled}>
                <div className="trap-rows" style={{ transform: `translateY(${rowsView.rowsTop}px)` }}>
                  {rows}
                </div>
              </div>
              {total === 0 ? <EmptyState /> : null}
            </div>
          </div>
        </div>
        {selected !== null ? <Detail index={selected} onClose={() => set({ selectedTrap: null })} /> : null}
      </div>
    </div>
  );
}
