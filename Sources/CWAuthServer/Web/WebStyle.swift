/// /static/app.css. System fonts only (no web fonts: the machine may have no internet). Phone widths:
/// the nav wraps, forms stack, and wide tables scroll sideways inside their own box instead of
/// stretching the page.
enum WebStyle {
    static let source = #"""
:root {
  --bg: #f4f6f8; --card: #ffffff; --text: #1b2430; --muted: #5b6776; --line: #d7dde4;
  --brand: #1f5f8b; --brand-dark: #174a6d; --ok: #1d7a46; --ok-bg: #e4f4ea;
  --warn: #9a5b00; --warn-bg: #fff3d6; --danger: #b42318; --danger-bg: #fdecea; --focus: #f5a300;
  color-scheme: light;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; } /* display rules below must not resurrect hidden parts */
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
a { color: var(--brand); }
h1 { font-size: 1.5rem; margin: 0 0 0.75rem; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 0.5rem; }
h3 { font-size: 1.05rem; margin: 0; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}
.skip-link { position: absolute; left: -999px; top: 0; background: var(--card); padding: 0.5rem 1rem; z-index: 10; }
.skip-link:focus { left: 0.5rem; top: 0.5rem; }

/* Keyboard users must always see where they are. */
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }

.icon { display: inline-block; vertical-align: middle; flex: none; }

/* ---- top bar ---- */
.topbar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 1.25rem;
  background: var(--brand); color: #fff; padding: 0.5rem 1rem;
}
.brand { display: inline-flex; align-items: center; gap: 0.35rem; color: #fff; font-weight: 700; text-decoration: none; font-size: 1.1rem; }
.topbar .brand-icon { color: #fff; }
.topbar nav { flex: 1 1 auto; }
.nav { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem; margin: 0; padding: 0; }
.nav a {
  display: inline-block; color: #fff; text-decoration: none; padding: 0.45rem 0.7rem; border-radius: 6px;
}
.nav a:hover { background: rgba(255, 255, 255, 0.15); }
.nav a[aria-current="page"] { background: #fff; color: var(--brand-dark); font-weight: 600; }
.topbar :focus-visible { outline-color: #ffd166; }
.who { display: flex; align-items: center; gap: 0.5rem; font-size: 0.9rem; }
.link-button {
  background: none; border: 1px solid rgba(255, 255, 255, 0.6); color: #fff; padding: 0.3rem 0.7rem; border-radius: 6px; cursor: pointer; font: inherit;
}

main { max-width: 1320px; margin: 0 auto; padding: 1rem; }

/* ---- controls ---- */
button {
  font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--text);
  padding: 0.45rem 0.9rem; min-height: 2.25rem;
}
button:hover:not(:disabled) { border-color: var(--brand); }
button:disabled { opacity: 0.55; cursor: not-allowed; }
button.primary { background: var(--brand); border-color: var(--brand); color: #fff; }
button.primary:hover:not(:disabled) { background: var(--brand-dark); }
button.danger { color: var(--danger); border-color: #e8b4ae; }
button.danger:hover:not(:disabled) { background: var(--danger-bg); border-color: var(--danger); }
button.small { padding: 0.25rem 0.6rem; min-height: 2rem; font-size: 0.9rem; }
input, select {
  font: inherit; padding: 0.4rem 0.55rem; border: 1px solid #b9c3ce; border-radius: 6px; background: #fff; color: var(--text); min-height: 2.25rem;
  max-width: 100%;
}
input[type="checkbox"] { min-height: 0; width: 1.1rem; height: 1.1rem; vertical-align: middle; }
label { font-weight: 500; }
label.check { font-weight: 400; display: inline-flex; align-items: center; gap: 0.4rem; }

.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 0.75rem 1rem 1rem; margin-bottom: 1rem; }
.card > h2:first-child { margin-top: 0.25rem; }
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 1rem; margin-bottom: 0.5rem; }
.form-grid { display: grid; grid-template-columns: max-content minmax(0, 22rem); gap: 0.5rem 0.75rem; align-items: center; }
.field-row { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.6rem 0.9rem; }
.field { display: flex; flex-direction: column; gap: 0.2rem; flex: 1 1 11rem; min-width: 0; }
.field-row > .check { min-height: 2.25rem; }
.inline-form { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.6rem; }
.grant { margin-top: 0.6rem; }
.hint { color: var(--muted); font-size: 0.9rem; margin: 0.35rem 0; }
.hint.warn { color: var(--warn); }
.muted { color: var(--muted); }
.empty { color: var(--muted); background: var(--card); border: 1px dashed var(--line); border-radius: 8px; padding: 0.75rem 1rem; }
.count {
  display: inline-block; min-width: 1.6rem; text-align: center; font-size: 0.85rem; background: var(--line); border-radius: 999px; padding: 0 0.45rem; vertical-align: middle;
}

.flash { border-radius: 8px; padding: 0.6rem 0.9rem; margin: 0.5rem 0 0.75rem; border: 1px solid; }
.flash.ok { background: var(--ok-bg); border-color: #a9d8bb; color: #14532d; }
.flash.error { background: var(--danger-bg); border-color: #f0b4ad; color: var(--danger); }

.pill { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; }
.pill-open { background: var(--ok-bg); color: var(--ok); }
.pill-locked { background: #e9edf1; color: #394452; }
.badge { display: inline-block; margin-left: 0.4rem; padding: 0 0.45rem; border-radius: 4px; font-size: 0.78rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; }
.badge-conflict { background: var(--danger); color: #fff; }
.badge-requested { background: var(--muted); color: #fff; }
.badge-privileged { background: var(--warn); color: #fff; }
.chip {
  display: inline-flex; align-items: center; gap: 0.15rem; background: #e6eff6; color: var(--brand-dark); border-radius: 999px;
  padding: 0 0.2rem 0 0.6rem; margin: 0.1rem 0.25rem 0.1rem 0; font-size: 0.88rem; white-space: nowrap;
}
.chip-remove {
  border: none; background: transparent; color: inherit; min-height: 0; padding: 0 0.35rem; font-size: 1.05rem; line-height: 1.4; border-radius: 999px;
}
.chip-remove:hover:not(:disabled) { background: #cddbe7; }

/* ---- tables: they scroll inside their own box on narrow screens ---- */
.table-wrap { position: relative; overflow-x: auto; -webkit-overflow-scrolling: touch; background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
.card .table-wrap { border-radius: 6px; }
table { border-collapse: collapse; width: 100%; min-width: 36rem; }
th, td { text-align: left; padding: 0.5rem 0.65rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
thead th { background: #eef2f6; font-size: 0.85rem; color: #394452; white-space: nowrap; }
tbody tr:last-child > * { border-bottom: none; }
tbody th { font-weight: 600; }
td.actions { white-space: nowrap; }
td.actions > * { margin: 0.1rem 0.3rem 0.1rem 0; }
td.actions .assign { display: inline-flex; gap: 0.3rem; }
td.actions select { min-height: 2rem; padding: 0.2rem 0.4rem; }
td.detail { max-width: 28rem; overflow-wrap: anywhere; }
td.time { white-space: nowrap; }
#users-table tbody th.name { white-space: nowrap; }
#users-table th, #users-table td { padding-left: 0.5rem; padding-right: 0.5rem; }
#pending-table th, #pending-table td { padding-left: 0.5rem; padding-right: 0.5rem; }
#pending-table td { white-space: nowrap; }
#pending-table td[data-field="username"], #pending-table td[data-field="requestedRoles"] { white-space: normal; }
#pending-table .name { white-space: nowrap; }
tr.clickable { cursor: pointer; }
tr.clickable:hover { background: #f3f8fc; }
tr.conflict { background: #fff1ef; }
tr.conflict:hover { background: #fde4e0; }
tr.conflict > td:first-child { box-shadow: inset 4px 0 0 var(--danger); }
tr.disabled { color: var(--muted); }
.name { font-weight: 600; overflow-wrap: anywhere; }
table.permissions { min-width: 28rem; table-layout: fixed; }
table.permissions th:first-child { width: 45%; }
table.permissions td:first-child { overflow-wrap: anywhere; }

/* ---- client registry ---- */
.registry-bar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1.25rem;
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 0.9rem 1rem;
}
.lock-toggle {
  display: inline-flex; align-items: center; gap: 0.5rem; font-size: 1.05rem; font-weight: 600; padding: 0.6rem 1.1rem; min-height: 3rem;
  background: #394452; border-color: #394452; color: #fff;
}
.lock-toggle:hover:not(:disabled) { background: #27303b; border-color: #27303b; }
.lock-toggle.is-open { background: var(--ok); border-color: var(--ok); }
.lock-toggle.is-open:hover:not(:disabled) { background: #155c35; }
.lock-toggle .icon-unlocked, .lock-toggle.is-open .icon-locked { display: none; }
.lock-toggle.is-open .icon-unlocked { display: inline-block; }
.registry-state { flex: 1 1 16rem; min-width: 0; }
.registry-state .hint { margin: 0.25rem 0 0; }
.countdown { font: 700 1.35rem/1 ui-monospace, "DejaVu Sans Mono", monospace; margin-left: 0.5rem; vertical-align: middle; color: var(--ok); }
.countdown.ending { color: var(--warn); }
.minutes { display: inline-flex; align-items: center; gap: 0.4rem; font-weight: 400; }
.minutes input { width: 4.5rem; }

/* ---- dialogs ---- */
dialog {
  border: none; border-radius: 12px; padding: 1rem 1.25rem; width: min(40rem, calc(100vw - 1.5rem)); max-height: calc(100vh - 2rem);
  box-shadow: 0 20px 50px rgba(0, 0, 0, 0.3); color: var(--text);
}
dialog::backdrop { background: rgba(18, 27, 38, 0.55); }
dialog h2 { margin-top: 0; overflow-wrap: anywhere; }
dialog h2:focus { outline: none; } /* focused only so the dialog opens on its title, not on Allow */
.details { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.25rem 1rem; margin: 0 0 0.75rem; }
.details dt { color: var(--muted); }
.details dd { margin: 0; overflow-wrap: anywhere; font-weight: 500; }
.conflict-box { background: var(--danger-bg); border: 1px solid #f0b4ad; border-radius: 8px; padding: 0.5rem 0.75rem; margin-bottom: 0.75rem; }
.conflict-box p { margin: 0 0 0.5rem; }
.conflict-box .badge { margin-left: 0; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 0.75rem; padding: 0.5rem 0.75rem; }
legend { font-weight: 600; padding: 0 0.3rem; }
.checks { display: flex; flex-wrap: wrap; gap: 0.35rem 1.1rem; }
.dialog-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6rem 1rem; margin-top: 0.5rem; }
.deny-group { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
.dialog-actions > button:last-child { margin-left: auto; }

.pager { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin-top: 0.75rem; }
.role-list { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.75rem; }

/* ---- login ---- */
.login-page { display: grid; place-items: center; min-height: 100vh; padding: 1rem; }
.login-box { width: min(24rem, 100%); background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1.5rem; margin: 0; }
.login-box h1 { display: flex; align-items: center; gap: 0.4rem; color: var(--brand); }
.login-box form { display: grid; gap: 0.4rem; }
.login-box input { width: 100%; margin-bottom: 0.4rem; }
.login-box button { margin-top: 0.4rem; }

/* ---- phone widths ---- */
@media (max-width: 700px) {
  body { font-size: 16px; } /* 16px inputs keep mobile browsers from zooming on focus */
  .topbar { padding: 0.5rem 0.75rem; }
  .topbar nav { order: 3; flex-basis: 100%; }
  .who { margin-left: auto; }
  .nav a { padding: 0.45rem 0.55rem; }
  main { padding: 0.75rem; }
  .form-grid { grid-template-columns: minmax(0, 1fr); }
  .form-grid > span:empty { display: none; }
  .form-grid input:not([type="checkbox"]), .form-grid select { width: 100%; }
  .field { flex-basis: 100%; }
  .field-row > button { flex: 1 1 100%; }
  .registry-bar { padding: 0.75rem; }
  .lock-toggle { flex: 1 1 100%; justify-content: center; }
  .dialog-actions > button:last-child { margin-left: 0; }
  dialog { padding: 0.9rem; }
}
"""#
}
