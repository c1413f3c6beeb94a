import { createContext, useCallback, useContext, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { describeError } from "./validation.ts";

/* ------------------------------------------------------------------ fields */

interface FieldShell {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  required?: boolean;
}

function Shell({ id, label, hint, error, required, children }: FieldShell & { id: string; children: ReactNode }) {
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label htmlFor={id} className={required ? "required" : undefined}>
        {label}
      </label>
      {children}
      {hint ? (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <div className="error" id={`${id}-error`} role="alert" data-field-error="">
          {error}
        </div>
      ) : null}
    </div>
  );
}

/**
 * An error stays next to its field until the field is edited; the next submit of the
 * form shows whatever the new check (or the server) says.
 */
function useFieldError(error: string | undefined) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement & HTMLSelectElement>(null);
  const [edited, setEdited] = useState(false);
  useEffect(() => setEdited(false), [error]);
  useEffect(() => {
    const form = ref.current?.form;
    if (!form) return;
    const reset = () => setEdited(false);
    form.addEventListener("submit", reset, true);
    return () => form.removeEventListener("submit", reset, true);
  }, []);
  return { ref, shown: edited ? undefined : error, edit: () => setEdited(true) };
}

const described = (id: string, hint: unknown, error: unknown) => [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;

export function TextField(
  p: FieldShell & {
    value: string;
    onChange: (v: string) => void;
    name?: string;
    type?: string;
    placeholder?: string;
    autoFocus?: boolean;
    autoComplete?: string;
    disabled?: boolean;
    /** Shown and focusable, not editable (a value the form derives). */
    readOnly?: boolean;
    min?: number;
    max?: number;
    inputMode?: "numeric" | "text";
  },
) {
  const id = useId();
  const fe = useFieldError(p.error);
  return (
    <Shell id={id} label={p.label} hint={p.hint} error={fe.shown} required={p.required}>
      <input
        ref={fe.ref}
        id={id}
        name={p.name}
        type={p.type ?? "text"}
        value={p.value}
        placeholder={p.placeholder}
        autoFocus={p.autoFocus}
        autoComplete={p.autoComplete ?? "off"}
        spellCheck={false}
        disabled={p.disabled}
        readOnly={p.readOnly}
        min={p.min}
        max={p.max}
        inputMode={p.inputMode}
        required={p.required}
        aria-invalid={fe.shown ? true : undefined}
        aria-describedby={described(id, p.hint, fe.shown)}
        onChange={(e) => {
          fe.edit();
          p.onChange(e.target.value);
        }}
      />
    </Shell>
  );
}

export function TextArea(p: FieldShell & { value: string; onChange: (v: string) => void; name?: string; rows?: number; placeholder?: string; mono?: boolean; autoFocus?: boolean }) {
  const id = useId();
  const fe = useFieldError(p.error);
  return (
    <Shell id={id} label={p.label} hint={p.hint} error={fe.shown} required={p.required}>
      <textarea
        ref={fe.ref}
        id={id}
        name={p.name}
        rows={p.rows ?? 4}
        value={p.value}
        placeholder={p.placeholder}
        autoFocus={p.autoFocus}
        spellCheck={false}
        autoComplete="off"
        className={p.mono ? "mono" : undefined}
        aria-invalid={fe.shown ? true : undefined}
        aria-describedby={described(id, p.hint, fe.shown)}
        onChange={(e) => {
          fe.edit();
          p.onChange(e.target.value);
        }}
      />
    </Shell>
  );
}

export function Select<T extends string>(p: FieldShell & { value: T; onChange: (v: T) => void; options: readonly (readonly [T, string])[]; name?: string; disabled?: boolean }) {
  const id = useId();
  const fe = useFieldError(p.error);
  return (
    <Shell id={id} label={p.label} hint={p.hint} error={fe.shown} required={p.required}>
      <select
        ref={fe.ref}
        id={id}
        name={p.name}
        value={p.value}
        disabled={p.disabled}
        aria-invalid={fe.shown ? true : undefined}
        aria-describedby={described(id, p.hint, fe.shown)}
        onChange={(e) => {
          fe.edit();
          p.onChange(e.target.value as T);
        }}
      >
        {p.options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </Shell>
  );
}

export function Checkbox(p: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string; hint?: string }) {
  const id = useId();
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" name={p.name} checked={p.checked} onChange={(e) => p.onChange(e.target.checked)} aria-describedby={p.hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{p.label}</label>
      {p.hint ? (
        <div className="hint" id={`${id}-hint`}>
          {p.hint}
        </div>
      ) : null}
    </div>
  );
}

/** A radio group as a fieldset (arrow keys move between options, as browsers do). */
export function Radios<T extends string>(p: { legend: string; value: T; onChange: (v: T) => void; options: readonly (readonly [T, string, string?])[]; name: string; error?: string | undefined }) {
  const id = useId();
  return (
    <fieldset className={`field radios${p.error ? " field-invalid" : ""}`} aria-describedby={p.error ? `${id}-error` : undefined}>
      <legend>{p.legend}</legend>
      {p.options.map(([v, label, hint]) => (
        <label key={v} className="radio">
          <input type="radio" name={p.name} value={v} checked={p.value === v} onChange={() => p.onChange(v)} />
          <span>
            {label}
            {hint ? <small className="hint"> — {hint}</small> : null}
          </span>
        </label>
      ))}
      {p.error ? (
        <div className="error" id={`${id}-error`} role="alert" data-field-error="">
          {p.error}
        </div>
      ) : null}
    </fieldset>
  );
}

/** Key/value rows (tags, Secret Key/Value, custom workflow keys). */
export function PairsEditor(p: {
  legend: string;
  pairs: { key: string; value: string }[];
  onChange: (pairs: { key: string; value: string }[]) => void;
  keyLabel?: string;
  valueLabel?: string;
  error?: string | undefined;
  hint?: ReactNode;
  secretValues?: boolean;
  max?: number;
  name: string;
  addLabel?: string;
}) {
  const id = useId();
  const set = (i: number, k: "key" | "value", v: string) => p.onChange(p.pairs.map((row, j) => (j === i ? { ...row, [k]: v } : row)));
  return (
    <fieldset className={`field pairs${p.error ? " field-invalid" : ""}`} aria-describedby={[p.hint ? `${id}-hint` : "", p.error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined}>
      <legend>{p.legend}</legend>
      {p.pairs.map((row, i) => (
        <div className="pair" key={i}>
          <input
            aria-label={`${p.keyLabel ?? "Key"} ${i + 1}`}
            name={`${p.name}-key-${i}`}
            placeholder={p.keyLabel ?? "Key"}
            value={row.key}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={p.error ? true : undefined}
            onChange={(e) => set(i, "key", e.target.value)}
          />
          <input
            aria-label={`${p.valueLabel ?? "Value"} ${i + 1}`}
            name={`${p.name}-value-${i}`}
            placeholder={p.valueLabel ?? "Value"}
            value={row.value}
            type={p.secretValues ? "password" : "text"}
            spellCheck={false}
            autoComplete={p.secretValues ? "new-password" : "off"}
            aria-invalid={p.error ? true : undefined}
            onChange={(e) => set(i, "value", e.target.value)}
          />
          <button type="button" className="btn-icon" aria-label={`Remove row ${i + 1}`} onClick={() => p.onChange(p.pairs.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="btn-small" disabled={p.max !== undefined && p.pairs.length >= p.max} onClick={() => p.onChange([...p.pairs, { key: "", value: "" }])}>
        + {p.addLabel ?? "Add row"}
      </button>
      {p.hint ? (
        <div className="hint" id={`${id}-hint`}>
          {p.hint}
        </div>
      ) : null}
      {p.error ? (
        <div className="error" id={`${id}-error`} role="alert" data-field-error="">
          {p.error}
        </div>
      ) : null}
    </fieldset>
  );
}

/**
 * Arrow keys (and Home/End) move between the buttons of a tab list or a radio group of
 * buttons and pick the one they land on, as the WAI-ARIA patterns expect.
 */
export function arrowKeys(e: React.KeyboardEvent<HTMLElement>): void {
  const keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];
  if (!keys.includes(e.key)) return;
  const items = [...e.currentTarget.querySelectorAll<HTMLButtonElement>("button")];
  const i = items.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0) return;
  e.preventDefault();
  const next = e.key === "Home" ? 0 : e.key === "End" ? items.length - 1 : (i + (e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 1) + items.length) % items.length;
  items[next]!.focus();
  items[next]!.click();
}

/* ------------------------------------------------------------------ feedback */

export function FormError({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <div className="form-error" role="alert">
      {error}
    </div>
  );
}

export function Progress({ label, value, max, detail }: { label: string; value: number; max: number; detail?: ReactNode }) {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <div className="progress" role="status" aria-live="polite">
      <div className="progress-label">
        <span>{label}</span>
        <span>
          {value} / {max} ({pct}%)
        </span>
      </div>
      <progress value={value} max={max} aria-label={label} />
      {detail ? <div className="hint">{detail}</div> : null}
    </div>
  );
}

type Toast = { id: number; kind: "ok" | "error"; text: string };
const ToastCtx = createContext<(kind: Toast["kind"], text: string) => void>(() => undefined);
export const useToast = () => useContext(ToastCtx);

export function ToastHost({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const push = useCallback((kind: Toast["kind"], text: string) => {
    const id = next.current++;
    setToasts((t) => [...t.slice(-3), { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === "error" ? 10_000 : 5_000);
  }, []);
  return (
    <ToastCtx.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`}>
            {t.text}
          </div>
        ))}
      </div>
    </ToastCtx.Provider>
  );
}

/* ------------------------------------------------------------------ dialog */

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** A modal dialog: focus moves in (first field), Tab stays inside, Escape closes, focus returns. */
/** Open dialogs, innermost last: Escape outside any of them (focus lost to the page) closes the innermost. */
const openModals: HTMLElement[] = [];

export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = ref.current;
    if (el && !el.contains(document.activeElement)) {
      const first = el.querySelector<HTMLElement>("input:not([disabled]), select:not([disabled]), textarea:not([disabled])");
      (first ?? el.querySelector<HTMLElement>(FOCUSABLE) ?? el).focus();
    }
    if (el) openModals.push(el);
    // A submit button disabled while busy drops focus to the page (a server error then leaves
    // it there): Escape still closes the dialog, and the next key press lands back inside it.
    const onDocKey = (e: KeyboardEvent) => {
      if (!el || openModals[openModals.length - 1] !== el || el.contains(document.activeElement)) return;
      if (e.key === "Escape") {
        e.preventDefault();
        close.current();
      } else if (e.key === "Tab") {
        e.preventDefault();
        (el.querySelector<HTMLElement>(FOCUSABLE) ?? el).focus();
      }
    };
    document.addEventListener("keydown", onDocKey);
    return () => {
      document.removeEventListener("keydown", onDocKey);
      const i = el ? openModals.indexOf(el) : -1;
      if (i >= 0) openModals.splice(i, 1);
      before?.focus?.();
    };
  }, []);
  /** Focus dropped to the page (a disabled button, a re-render): back to the dialog. */
  function onBlur(e: React.FocusEvent) {
    if (e.relatedTarget !== null) return;
    setTimeout(() => {
      const el = ref.current;
      if (el && (document.activeElement === null || document.activeElement === document.body)) el.focus();
    }, 0);
  }
  function onKeyDown(e: React.KeyboardEvent) {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== "Tab" || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null);
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`dialog${wide ? " dialog-wide" : ""}`} role="dialog" aria-modal="true" aria-labelledby={titleId} ref={ref} tabIndex={-1} onKeyDown={onKeyDown} onBlur={onBlur}>
        <div className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="btn-icon" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </div>
        <div className="dialog-body">{children}</div>
      </div>
    </div>
  );
}

/* ------------------------------------------------------------------ data */

/** What `useLoad` gives: the data once loaded, or the error, and a way to load again. */
export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (e: unknown) => live && setState({ data: undefined, error: describeError(e), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function LoadError({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div className="form-error" role="alert">
      {error}{" "}
      {retry ? (
        <button type="button" className="btn-small" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A loaded list in its states: loading (the first time), an error with Retry, empty, or its items. */
export function Listed<T>({ list, items, what, empty, children }: { list: Loaded<unknown>; items: readonly T[] | undefined; what: string; empty: ReactNode; children: (items: readonly T[]) => ReactNode }) {
  return (
    <>
      {list.loading && !list.data ? <Loading what={what} /> : null}
      {list.error ? <LoadError error={list.error} retry={list.reload} /> : null}
      {items && items.length === 0 ? <Empty>{empty}</Empty> : null}
      {items && items.length > 0 ? children(items) : null}
    </>
  );
}

/** A table with its column headers (scrolling sideways inside its box on a narrow screen); `actions` adds a last column for the rows' buttons, named for screen readers. */
export function Table({ label, columns, actions, children }: { label: string; columns: readonly string[]; actions?: boolean; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A form's buttons: Cancel, then its submit button (primary, or `danger` for a destructive one), disabled while `busy`. */
export function FormActions({ onCancel, submit, busy, danger }: { onCancel: () => void; submit: ReactNode; busy?: boolean; danger?: boolean }) {
  return (
    <div className="form-actions">
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className={danger ? "btn-danger" : "btn-primary"} disabled={busy}>
        {submit}
      </button>
    </div>
  );
}

/** Asks before a deletion: the consequences, then Cancel or the danger button. */
export function ConfirmDelete({ title, children, confirm = "Delete", onCancel, onConfirm }: { title: string; children: ReactNode; confirm?: string; onCancel: () => void; onConfirm: () => void }) {
  return (
    <Modal title={title} onClose={onCancel}>
      {children}
      <div className="form-actions">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="btn-danger" onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Modal>
  );
}

export function PageHead({ title, children, intro }: { title: string; children?: ReactNode; intro?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1>{title}</h1>
        {intro ? <p className="intro">{intro}</p> : null}
      </div>
      <div className="actions">{children}</div>
    </div>
  );
}

export function Badge({ kind, children }: { kind?: "ok" | "warn" | "bad" | "info"; children: ReactNode }) {
  return <span className={`badge badge-${kind ?? "info"}`}>{children}</span>;
}

export const fmtTime = (iso: string | null | undefined): string => {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
};

/** Save text as a file (a Blob URL, revoked at once; nothing is kept). */
export function downloadText(filename: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
