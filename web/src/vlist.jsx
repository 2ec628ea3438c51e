// vlist.jsx — a long list (a chat thread, the marketplace's cards) that stays cheap with
// thousands of items: a scrolling box that renders a window of items around what is
// visible (plus a margin) between two spacers; rows keep the heights measured when they
// were last shown, unseen ones count as `estimate` px. `stickToBottom` keeps a thread at
// its newest message while the reader is there. Short lists render whole.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

const WINDOW_MIN = 60;      // lists up to this length render whole
const OVERSCAN_PX = 800;

export function VirtualList({ items, render, itemKey, estimate = 60, stickToBottom = false, class: cls = '', testid }) {
  const box = useRef(null);
  const heights = useRef(new Map());
  const atBottom = useRef(true);
  const [view, setView] = useState({ top: 0, height: 800 });
  const whole = items.length <= WINDOW_MIN;

  const heightOf = (it) => heights.current.get(itemKey(it)) || estimate;
  let start = 0, end = items.length, before = 0, after = 0;
  if (!whole) {
    let y = 0;
    start = items.length;
    for (let i = 0; i < items.length; i++) {
      const h = heightOf(items[i]);
      if (y + h >= view.top - OVERSCAN_PX) { start = i; break; }
      y += h;
    }
    before = y;
    end = start;
    while (end < items.length && y < view.top + view.height + OVERSCAN_PX) { y += heightOf(items[end]); end++; }
    for (let i = end; i < items.length; i++) after += heightOf(items[i]);
  }

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    // Measure what is shown; keep at the bottom when the reader was there.
    let changed = false;
    for (const child of el.querySelectorAll(':scope > [data-vkey]')) {
      const k = child.dataset.vkey;
      const h = child.offsetHeight;
      if (heights.current.get(k) !== h) { heights.current.set(k, h); changed = true; }
    }
    if (stickToBottom && atBottom.current) el.scrollTop = el.scrollHeight;
    if (changed && !whole) setView({ top: el.scrollTop, height: el.clientHeight });
  }, [items, start, end]);

  const onScroll = () => {
    const el = box.current;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (!whole) setView({ top: el.scrollTop, height: el.clientHeight });
  };
  return (
    <div class={`vlist ${cls}`} ref={box} onScroll={onScroll} data-testid={testid} data-count={items.length}>
      {before > 0 && <div class="vspace" style={{ height: `${before}px` }} />}
      {items.slice(start, end).map((it) => <div key={itemKey(it)} data-vkey={itemKey(it)} class="vitem">{render(it)}</div>)}
      {after > 0 && <div class="vspace" style={{ height: `${after}px` }} />}
    </div>
  );
}
