// vlist.jsx — a long list (a chat thread) that stays cheap with thousands of items: a
// scrolling box whose rows are drawn once and then skipped by the browser's own
// `content-visibility: auto` while off screen (no layout, no paint; `contain-intrinsic-size:
// auto` keeps the height each row last had, so the scroll bar does not jump). Scrolling
// runs no script at all. A JS window of rows (spacers, measured heights) was tried first:
// under a loaded machine each scroll step re-created rows, and the garbage collector and
// the re-measuring cost frames of 800+ ms (bench/RESULTS.md "UI"). `stickToBottom` keeps a
// thread at its newest message while the reader is there.
import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

// A row is redrawn only when its item changes: a reloaded thread brings equal messages as
// new objects, so `same` (by default identity) can compare what is shown.
const Row = memo(({ item, render }) => render(item), (a, b) => (a.same ? a.same(a.item, b.item) : a.item === b.item));

const FIRST = 40;  // rows drawn at once; the rest follow STEP a frame
const STEP = 25;

export function VirtualList({ items, render, itemKey, same, estimate = 60, stickToBottom = false, class: cls = '', testid }) {
  const box = useRef(null);
  const atBottom = useRef(true);
  // A thousand rows are not drawn in one task (a second on a loaded machine): the newest
  // FIRST at once, then STEP more each frame; the browser keeps the reader's place.
  const [shown, setShown] = useState(Math.min(items.length, FIRST));
  useEffect(() => {
    if (shown >= items.length) return undefined;
    const id = requestAnimationFrame(() => setShown((n) => Math.min(items.length, n + STEP)));
    return () => cancelAnimationFrame(id);
  }, [shown, items.length]);
  const visible = shown >= items.length ? items : stickToBottom ? items.slice(items.length - shown) : items.slice(0, shown);
  useLayoutEffect(() => {
    if (stickToBottom && atBottom.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [items, shown]);
  const onScroll = () => {
    const el = box.current;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };
  return (
    <div class={`vlist ${cls}`} ref={box} onScroll={onScroll} data-testid={testid} data-count={visible.length}
      style={{ '--row-estimate': `${estimate}px` }}>
      {visible.map((it) => <div key={itemKey(it)} class="vitem"><Row item={it} render={render} same={same} /></div>)}
    </div>
  );
}
