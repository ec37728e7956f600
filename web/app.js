"use strict";
(() => {
  const POLL_MS = 1500;
  const state = { csrf: "", username: "" };
  const page = () => document.body.dataset.page;
  const $ = (sel, root) => (root || document).querySelector(sel);

  // signedOut: the page is already on its way to /login, so nobody should show this error.
  class ApiError extends Error {
    constructor(status, message, signedOut) { super(message); this.status = status; this.signedOut = !!signedOut; }
  }

  function toLogin() {
    const next = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && method !== "HEAD" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    let res;
    try {
      res = await fetch(path, {
        method, headers, credentials: "same-origin", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, "The server cannot be reached: " + e.message);
    }
    if (res.status === 401 && page() !== "login") {
      toLogin();
      throw new ApiError(401, "Your session has ended; sign in again.", true);
    }
    const text = res.status === 204 ? "" : await res.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    if (!res.ok) {
      let message = (data && data.error) || (res.status + " " + res.statusText);
      if (res.status === 403 && !(data && data.error)) message = "You are not allowed to do that.";
      throw new ApiError(res.status, message);
    }
    return data;
  }

  const enc = encodeURIComponent;

  // As the server's allow endpoint decides (RegistryRoutes.Privilege): any http permission, or a catch-all
  // resource made only of wildcards and ending in # (#, +/#, +/+/#, …).
  function isPrivileged(role) {
    return (role.permissions || []).some((p) => p.context === "http" ||
      (p.resource.split("/").every((level, i, all) => i === all.length - 1 ? level === "#" : level === "+")));
  }

  // Builds an element; attrs: class, text, on<event>, dataset, anything else as an attribute.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function showMessage(box, message, kind) {
    if (!box) return;
    box.replaceChildren(...(Array.isArray(message) ? message : [message || ""]));
    box.className = "flash " + (kind || "ok");
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.hidden = !message || (Array.isArray(message) && message.length === 0);
  }
  const flash = (message, kind) => showMessage($("#flash"), message, kind);

  // Runs one admin action: the button is disabled meanwhile so a double click sends one request.
  async function act(button, fn, errorBox) {
    if (button) button.disabled = true;
    try {
      await fn();
      return true;
    } catch (e) {
      if (!e.signedOut) showMessage(errorBox || $("#flash"), e.message, "error");
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  }

  // Tables say "(UTC)" in their header; dialogs show the zone next to each time.
  function fmtTime(value, zone) {
    if (!value) return "—";
    const d = new Date(value);
    if (isNaN(d.getTime())) return String(value);
    return d.toISOString().slice(0, 19).replace("T", " ") + (zone ? " UTC" : "");
  }

  function mmss(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }

  // Re-rendering a table would drop keyboard focus; remember the focused control by key and restore it.
  function keepFocus(render) {
    const key = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.focusKey : undefined;
    render();
    if (key) {
      const again = document.querySelector('[data-focus-key="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    }
  }

  function openDialog(dialog) {
    if (!dialog.open) dialog.showModal();
  }

  // ---------------------------------------------------------------- session + nav
  async function loadSession() {
    const session = await api("GET", "/api/auth/session");
    state.csrf = session.csrfToken || "";
    state.username = session.username || "";
    const who = $("#whoami");
    if (who) who.textContent = state.username;
  }

  function wireLogout() {
    const button = $("#logout");
    if (!button) return;
    button.addEventListener("click", () => act(button, async () => {
      try { await api("POST", "/api/auth/logout"); } catch (e) { if (!e.signedOut) throw e; }
      location.assign("/login");
    }));
  }

  // ---------------------------------------------------------------- login
  function safeNext() {
    const next = new URLSearchParams(location.search).get("next") || "";
    // Only same-site paths: "//host" or "/\host" would leave the site.
    return /^\/(?![\/\\])/.test(next) && !next.startsWith("/login") ? next : "/registry";
  }

  async function initLogin() {
    const form = $("#login-form");
    const error = $("#login-error");
    try {
      await api("GET", "/api/auth/session");
      location.replace(safeNext());
      return;
    } catch (_) { /* not signed in: stay here */ }
    $("#login-username").focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const username = $("#login-username").value.trim();
      const password = $("#login-password").value;
      if (!username || !password) {
        showMessage(error, "Enter a username and a password.", "error");
        return;
      }
      const ok = await act($("#login-submit"), async () => {
        try {
          await api("POST", "/api/auth/login", { username, password, session: true });
        } catch (e) {
          if (e.status === 401) throw new ApiError(401, "Wrong username or password.");
          if (e.status === 429) throw new ApiError(429, "Too many failed sign-ins. Wait a few minutes, then try again.");
          throw e;
        }
      }, error);
      if (ok) location.assign(safeNext());
      else { $("#login-password").value = ""; $("#login-password").focus(); }
    });
  }

  // ---------------------------------------------------------------- client registry
  const Registry = {
    status: null,
    deadline: 0,
    expiryAsked: false,
    seq: 0,
    shownSeq: 0,
    timer: 0,
    rows: new Map(),
    data: new Map(),
    current: null,
    roles: [],

    async init() {
      $("#registry-toggle").addEventListener("click", () => this.toggle());
      $("#pending-allow").addEventListener("click", () => this.allow());
      $("#pending-deny").addEventListener("click", () => this.deny());
      $("#pending-close").addEventListener("click", () => $("#pending-dialog").close());
      $("#pending-dialog").addEventListener("close", () => { this.current = null; });
      this.poll();
      setInterval(() => this.tick(), 250);
    },

    async poll() {
      const seq = ++this.seq;
      try {
        this.render(await api("GET", "/api/client-registry"), seq);
      } catch (e) {
        if (!e.signedOut) flash("Could not refresh the registry: " + e.message, "error");
      } finally {
        // One timer at most, whoever finished last re-arms it.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.poll(), POLL_MS);
      }
    },

    render(status, seq) {
      if (seq < this.shownSeq) return; // an older answer overtaken by a newer one
      this.shownSeq = seq;
      this.renderStatus(status);
      this.renderPending(status.pending || []);
    },

    renderStatus(status) {
      this.status = status;
      const open = !!status.open;
      const button = $("#registry-toggle");
      button.disabled = false;
      button.classList.toggle("is-open", open);
      button.setAttribute("aria-label", open ? "Lock the client registry now" : "Unlock the client registry");
      $("#registry-toggle-text").textContent = open ? "Lock" : "Unlock";
      const pill = $("#registry-state");
      pill.textContent = open ? "Open" : "Locked";
      pill.className = "pill " + (open ? "pill-open" : "pill-locked");
      $("#registry-state-text").textContent = open
        ? "Open: unknown clients that connect now are recorded below. It locks itself when the time is up."
        : "Locked: unknown clients are refused and not recorded.";
      if (open) {
        const fresh = Date.now() + (status.secondsLeft || 0) * 1000;
        // Whole seconds from the server would make the clock jitter; follow it only when it really moved.
        if (!this.deadline || Math.abs(fresh - this.deadline) > 1500) this.deadline = fresh;
        this.expiryAsked = false;
      } else {
        this.deadline = 0;
      }
      this.tick();
    },

    tick() {
      const countdown = $("#registry-countdown");
      if (!this.status || !this.status.open) {
        countdown.hidden = true;
        return;
      }
      const left = (this.deadline - Date.now()) / 1000;
      countdown.hidden = false;
      countdown.textContent = mmss(left);
      countdown.classList.toggle("ending", left < 30);
      if (left <= 0 && !this.expiryAsked) {
        this.expiryAsked = true; // the server decides it is closed; ask it once
        this.poll();
      }
    },

    async toggle() {
      const button = $("#registry-toggle");
      const open = this.status && this.status.open;
      await act(button, async () => {
        let body;
        if (!open) {
          const minutes = parseInt($("#registry-minutes").value, 10);
          if (!(minutes >= 1 && minutes <= 60)) throw new ApiError(400, "Window minutes must be between 1 and 60.");
          body = { minutes };
        }
        const seq = ++this.seq;
        const status = await api("POST", open ? "/api/client-registry/lock" : "/api/client-registry/unlock", body);
        this.deadline = 0;
        if (status && typeof status.open === "boolean") this.render(Object.assign({ pending: this.lastPending() }, status), seq);
        flash(open ? "Registry locked." : "Registry unlocked.", "ok");
      });
      button.focus();
      this.poll();
    },

    lastPending() {
      return Array.from(this.data.values());
    },

    renderPending(list) {
      const body = $("#pending-body");
      const seen = new Set();
      list.forEach((request, index) => {
        seen.add(request.username);
        this.data.set(request.username, request);
        let row = this.rows.get(request.username);
        if (!row) {
          row = this.makeRow(request.username);
          this.rows.set(request.username, row);
        }
        this.fillRow(row, request);
        // Move only rows out of place: moving a row would take focus from its Details button.
        if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
      });
      for (const [username, row] of this.rows) {
        if (!seen.has(username)) {
          row.remove();
          this.rows.delete(username);
          this.data.delete(username);
        }
      }
      $("#pending-count").textContent = String(list.length);
      $("#pending-empty").hidden = list.length > 0;
      $("#pending-table").closest(".table-wrap").hidden = list.length === 0;
      if (this.current) this.fillDetails(this.data.get(this.current));
    },

    makeRow(username) {
      const cells = ["username", "clientId", "address", "firstSeen", "lastSeen", "attempts", "source", "requestedRoles"]
        .map((field) => el("td", { dataset: { field } }));
      const details = el("button", {
        type: "button", class: "small", text: "Details",
        "aria-label": "Details of the request from " + username,
        "data-testid": "pending-details-button",
        dataset: { focusKey: "pending-details:" + username },
        onclick: () => this.open(username),
      });
      const row = el("tr", { class: "clickable", "data-username": username, "data-testid": "pending-row" },
        cells, el("td", { class: "actions" }, details));
      row.addEventListener("click", (event) => {
        if (!event.target.closest("button")) this.open(username);
      });
      return row;
    },

    fillRow(row, request) {
      const text = {
        clientId: request.clientId || "—",
        address: request.address || "—",
        firstSeen: fmtTime(request.firstSeen),
        lastSeen: fmtTime(request.lastSeen),
        attempts: String(request.attempts),
        source: request.source || "mqtt",
        requestedRoles: (request.requestedRoles || []).join(", ") || "—",
      };
      for (const cell of row.children) {
        const field = cell.dataset.field;
        if (field === "username") {
          const parts = [el("span", { class: "name", text: request.username })];
          if (request.conflict) parts.push(el("span", { class: "badge badge-conflict", "data-testid": "conflict-badge", text: "conflict" }));
          if (request.csrFingerprint) {
            parts.push(el("span", { class: "badge badge-csr", "data-testid": "csr-badge", text: "csr",
              title: "Sent a certificate signing request: allowing signs a certificate for it" }));
          }
          cell.replaceChildren(...parts);
        } else if (field && cell.textContent !== text[field]) {
          cell.textContent = text[field];
        }
      }
      row.classList.toggle("conflict", !!request.conflict);
    },

    async open(username) {
      const request = this.data.get(username);
      if (!request) return;
      this.current = username;
      $("#pending-dialog-username").textContent = username;
      $("#pending-force").checked = false;
      $("#pending-block").checked = false;
      showMessage($("#pending-dialog-error"), "");
      this.fillDetails(request);
      this.renderRolePicker(request, []);
      openDialog($("#pending-dialog"));
      try {
        this.roles = await api("GET", "/api/roles");
      } catch (e) {
        if (!e.signedOut) showMessage($("#pending-dialog-error"), "Could not load roles: " + e.message, "error");
        return;
      }
      if (this.current === username) this.renderRolePicker(request, this.roles);
    },

    fillDetails(request) {
      if (!request) {
        showMessage($("#pending-dialog-error"), "This request is no longer pending (allowed, denied or expired elsewhere).", "error");
        $("#pending-allow").disabled = true;
        $("#pending-deny").disabled = true;
        return;
      }
      $("#pending-allow").disabled = false;
      $("#pending-deny").disabled = false;
      const fields = [
        ["Username", request.username], ["Client id", request.clientId || "—"], ["Address", request.address || "—"],
        ["First seen", fmtTime(request.firstSeen, true)], ["Last seen", fmtTime(request.lastSeen, true)],
        ["Attempts", String(request.attempts)], ["Source", request.source || "mqtt"],
        ["Requested roles", (request.requestedRoles || []).join(", ") || "none"],
        ...(request.requestedContext ? [["Requested context", request.requestedContext]] : []),
        ["Certificate request", request.csrFingerprint
          ? "yes — allowing signs a certificate for its key, SHA-256 " + request.csrFingerprint
          : "no — logs in with its password"],
        ["Conflict", request.conflict ? "yes — " + (request.conflictAttempts || 0) + " attempt(s) with another password" : "no"],
      ];
      $("#pending-details").replaceChildren(...fields.flatMap(([label, value]) =>
        [el("dt", { text: label }), el("dd", { text: value })]));
      $("#pending-conflict").hidden = !request.conflict;
      $("#pending-conflict-attempts").textContent = String(request.conflictAttempts || 0);
    },

    renderRolePicker(request, roles) {
      const requested = new Set(request.requestedRoles || []);
      const known = new Set(roles.map((r) => r.name));
      const list = $("#pending-role-list");
      if (!roles.length) {
        list.replaceChildren(el("p", { class: "hint", text: "Loading roles…" }));
      } else {
        // Requested roles are a request, never pre-selected: the device chose them itself.
        list.replaceChildren(...roles.map((role) => el("label", { class: "check" },
          el("input", {
            type: "checkbox", value: role.name,
            "data-testid": "pending-role", "data-role": role.name,
            "data-privileged": isPrivileged(role) ? "true" : null,
          }),
          " " + role.name,
          requested.has(role.name) ? el("span", { class: "badge badge-requested", "data-testid": "role-requested", text: "requested" }) : null,
          isPrivileged(role) ? el("span", { class: "badge badge-privileged", "data-testid": "role-privileged", text: "privileged" }) : null)));
      }
      const missing = [...requested].filter((name) => roles.length && !known.has(name));
      const note = $("#pending-missing-roles");
      note.hidden = missing.length === 0;
      note.textContent = missing.length ? "Requested but not defined (create them under Roles first): " + missing.join(", ") : "";
    },

    async allow() {
      const username = this.current;
      const request = this.data.get(username);
      if (!username || !request) return;
      const roles = Array.from(document.querySelectorAll("#pending-role-list input:checked")).map((i) => i.value);
      const force = $("#pending-force").checked;
      const errorBox = $("#pending-dialog-error");
      if (request.conflict && !force) {
        showMessage(errorBox, "This request is in conflict. Tick “allow anyway (force)” once you have checked the device.", "error");
        $("#pending-force").focus();
        return;
      }
      const privileged = roles.filter((name) => this.roles.some((r) => r.name === name && isPrivileged(r)));
      if (privileged.length && !confirm("Grant " + username + " the privileged role(s) " + privileged.join(", ") +
          "? They carry API access (http permissions) or a catch-all # permission, and this device registered itself.")) {
        showMessage(errorBox, "Not allowed: the privileged role(s) " + privileged.join(", ") + " were not confirmed.", "error");
        return;
      }
      const ok = await act($("#pending-allow"), async () => {
        await api("POST", "/api/client-registry/pending/" + enc(username) + "/allow",
          { roles, force, confirmPrivileged: privileged.length > 0 });
      }, errorBox);
      if (!ok) return;
      $("#pending-dialog").close();
      flash([
        "Allowed " + username + (roles.length ? " with roles " + roles.join(", ") : " (no roles yet)") +
          ". It can connect now; it is listed under ",
        el("a", { href: "/users", text: "Users" }), ".",
      ], "ok");
      this.poll();
    },

    async deny() {
      const username = this.current;
      if (!username) return;
      const block = $("#pending-block").checked;
      const ok = await act($("#pending-deny"), async () => {
        await api("POST", "/api/client-registry/pending/" + enc(username) + "/deny", { block });
      }, $("#pending-dialog-error"));
      if (!ok) return;
      $("#pending-dialog").close();
      flash("Denied " + username + (block ? " and blocked the username." : "."), "ok");
      this.poll();
    },
  };

  // ---------------------------------------------------------------- users
  const Users = {
    users: [],
    roles: [],
    editing: null,

    async init() {
      $("#user-add-form").addEventListener("submit", (event) => { event.preventDefault(); this.add(); });
      $("#user-dialog-close").addEventListener("click", () => $("#user-dialog").close());
      $("#user-dialog-password-save").addEventListener("click", () => this.savePassword());
      $("#user-dialog-prefix-save").addEventListener("click", () => this.savePrefix());
      await this.load();
    },

    async load() {
      try {
        const [users, roles] = await Promise.all([api("GET", "/api/users"), api("GET", "/api/roles")]);
        this.users = users;
        this.roles = roles;
        keepFocus(() => this.render());
      } catch (e) {
        if (!e.signedOut) flash("Could not load users: " + e.message, "error");
      }
    },

    render() {
      const select = $("#user-add-role");
      const chosen = select.value;
      select.replaceChildren(el("option", { value: "", text: "(none)" }),
        ...this.roles.map((r) => el("option", { value: r.name, text: r.name, selected: r.name === chosen })));
      $("#users-body").replaceChildren(...this.users.map((u) => this.row(u)));
      $("#users-count").textContent = String(this.users.length);
      $("#users-empty").hidden = this.users.length > 0;
    },

    row(user) {
      const name = user.username;
      const key = (what) => ({ focusKey: what + ":" + name });
      const roleChips = user.roles.length
        ? user.roles.map((role) => el("span", { class: "chip", "data-role": role },
            role,
            el("button", {
              type: "button", class: "chip-remove", text: "×", title: "Unassign " + role,
              "aria-label": "Unassign role " + role + " from " + name, "data-testid": "user-unassign",
              dataset: key("unassign-" + role),
              onclick: (e) => act(e.currentTarget, async () => {
                await api("DELETE", "/api/users/" + enc(name) + "/roles/" + enc(role));
                flash("Unassigned " + role + " from " + name + ".", "ok");
                await this.load();
              }),
            })))
        : [el("span", { class: "muted", text: "no roles" })];
      const unassigned = this.roles.filter((r) => !user.roles.includes(r.name));
      const roleSelect = el("select", {
        "aria-label": "Role to assign to " + name, "data-testid": "user-role-select", dataset: key("role-select"),
      }, unassigned.length
        ? unassigned.map((r) => el("option", { value: r.name, text: r.name }))
        : [el("option", { value: "", text: "(all assigned)" })]);
      const assign = el("button", {
        type: "button", class: "small", text: "Assign role", "data-testid": "user-assign",
        "aria-label": "Assign the selected role to " + name, dataset: key("assign"), disabled: !unassigned.length,
        onclick: (e) => act(e.currentTarget, async () => {
          const role = roleSelect.value;
          if (!role) return;
          await api("PUT", "/api/users/" + enc(name) + "/roles/" + enc(role));
          flash("Assigned " + role + " to " + name + ".", "ok");
          await this.load();
        }),
      });
      const toggle = el("button", {
        type: "button", class: "small", text: user.enabled ? "Disable" : "Enable",
        "aria-label": (user.enabled ? "Disable " : "Enable ") + name, "data-testid": "user-toggle-enabled",
        dataset: key("enabled"),
        onclick: (e) => act(e.currentTarget, async () => {
          await api("PUT", "/api/users/" + enc(name) + "/enabled", { enabled: !user.enabled });
          flash((user.enabled ? "Disabled " : "Enabled ") + name + ".", "ok");
          await this.load();
        }),
      });
      const edit = el("button", {
        type: "button", class: "small", text: "Edit", "aria-label": "Change password or prefix of " + name,
        "data-testid": "user-edit", dataset: key("edit"), onclick: () => this.openEdit(user),
      });
      const remove = el("button", {
        type: "button", class: "small danger", text: "Delete", "aria-label": "Delete " + name,
        "data-testid": "user-delete", dataset: key("delete"),
        onclick: (e) => {
          if (!confirm("Delete user " + name + "? Its connected clients are disconnected.")) return;
          act(e.currentTarget, async () => {
            await api("DELETE", "/api/users/" + enc(name));
            flash("Deleted " + name + ".", "ok");
            await this.load();
          });
        },
      });
      return el("tr", { "data-username": name, "data-testid": "user-row", class: user.enabled ? "" : "disabled" },
        el("th", { scope: "row", class: "name", text: name }),
        el("td", { class: "roles", "data-field": "roles" }, roleChips),
        el("td", { "data-field": "enabled" }, el("span", {
          class: "pill " + (user.enabled ? "pill-open" : "pill-locked"), text: user.enabled ? "enabled" : "disabled",
        })),
        el("td", { "data-field": "origin", text: user.origin }),
        el("td", { "data-field": "publishPrefix" }, user.publishPrefix ? el("code", { text: user.publishPrefix }) : "—"),
        el("td", { "data-field": "createdAt", class: "time", text: fmtTime(user.createdAt) }),
        el("td", { class: "actions" }, el("span", { class: "assign" }, roleSelect, assign), toggle, edit, remove));
    },

    async add() {
      const username = $("#user-add-username").value.trim();
      const password = $("#user-add-password").value;
      const role = $("#user-add-role").value;
      const prefix = $("#user-add-prefix").value.trim();
      if (!username || !password) {
        flash("Enter a username and a password.", "error");
        return;
      }
      const body = { username, password, enabled: $("#user-add-enabled").checked, roles: role ? [role] : [] };
      if (prefix) body.publishPrefix = prefix;
      const ok = await act($("#user-add-submit"), async () => { await api("POST", "/api/users", body); });
      if (!ok) return;
      $("#user-add-form").reset();
      flash("Added " + username + ".", "ok");
      await this.load();
      $("#user-add-username").focus();
    },

    openEdit(user) {
      this.editing = user.username;
      $("#user-dialog-username").textContent = user.username;
      $("#user-dialog-account").value = user.username;
      $("#user-dialog-password").value = "";
      $("#user-dialog-prefix").value = user.publishPrefix || "";
      showMessage($("#user-dialog-error"), "");
      openDialog($("#user-dialog"));
    },

    async savePassword() {
      const password = $("#user-dialog-password").value;
      const name = this.editing;
      const box = $("#user-dialog-error");
      if (!password) { showMessage(box, "Enter the new password.", "error"); return; }
      const ok = await act($("#user-dialog-password-save"), async () => {
        await api("PUT", "/api/users/" + enc(name) + "/password", { password });
      }, box);
      if (ok) { $("#user-dialog-password").value = ""; showMessage(box, "Password of " + name + " changed.", "ok"); }
    },

    async savePrefix() {
      const value = $("#user-dialog-prefix").value.trim();
      const name = this.editing;
      const box = $("#user-dialog-error");
      const ok = await act($("#user-dialog-prefix-save"), async () => {
        await api("PUT", "/api/users/" + enc(name) + "/publish-prefix", { publishPrefix: value || null });
      }, box);
      if (ok) {
        showMessage(box, value ? "Publish prefix of " + name + " is now " + value + "." : "Publish prefix of " + name + " removed.", "ok");
        await this.load();
      }
    },
  };

  // ---------------------------------------------------------------- roles
  const Roles = {
    roles: [],

    async init() {
      $("#role-add-form").addEventListener("submit", (event) => { event.preventDefault(); this.add(); });
      await this.load();
    },

    async load() {
      try {
        this.roles = await api("GET", "/api/roles");
        keepFocus(() => this.render());
      } catch (e) {
        if (!e.signedOut) flash("Could not load roles: " + e.message, "error");
      }
    },

    render() {
      $("#roles-list").replaceChildren(...this.roles.map((r) => this.card(r)));
      $("#roles-count").textContent = String(this.roles.length);
      $("#roles-empty").hidden = this.roles.length > 0;
    },

    card(role) {
      const name = role.name;
      const key = (what) => ({ focusKey: what + ":" + name });
      const idBase = "role-" + name.replace(/[^A-Za-z0-9_-]/g, "_");
      const permissions = role.permissions.length
        ? el("div", { class: "table-wrap" }, el("table", { class: "permissions" },
            el("thead", {}, el("tr", {}, ["Resource", "Operation", "Context", ""].map((h) => el("th", { scope: "col", text: h })))),
            el("tbody", {}, role.permissions.map((p) => el("tr", { "data-resource": p.resource, "data-context": p.context },
              el("td", {}, el("code", { text: p.resource })),
              el("td", { text: p.operation }),
              el("td", { text: p.context }),
              el("td", { class: "actions" }, el("button", {
                type: "button", class: "small danger", text: "Revoke", "data-testid": "role-revoke",
                "aria-label": "Revoke " + p.operation + " on " + p.resource + " (" + p.context + ") from " + name,
                dataset: key("revoke-" + p.context + "-" + p.resource),
                onclick: (e) => act(e.currentTarget, async () => {
                  await api("DELETE", "/api/roles/" + enc(name) + "/permissions?resource=" + enc(p.resource) + "&context=" + enc(p.context));
                  flash("Revoked " + p.resource + " from " + name + ".", "ok");
                  await this.load();
                }),
              })))))))
        : el("p", { class: "muted", text: "No permissions: members may connect but do nothing." });
      const resource = el("input", { id: idBase + "-resource", required: true, placeholder: "e.g. sensors/%u/#", autocomplete: "off", "data-testid": "role-grant-resource" });
      const operation = el("select", { id: idBase + "-op", "data-testid": "role-grant-op" },
        ["read", "write", "readWrite"].map((op) => el("option", { value: op, text: op })));
      const context = el("select", { id: idBase + "-context", "data-testid": "role-grant-context" },
        ["mqtt", "http"].map((c) => el("option", { value: c, text: c })));
      const grant = el("form", { class: "inline-form grant", "data-testid": "role-grant-form" },
        el("label", { for: idBase + "-resource", text: "Resource" }), resource,
        el("label", { for: idBase + "-op", text: "Operation" }), operation,
        el("label", { for: idBase + "-context", text: "Context" }), context,
        el("button", { type: "submit", class: "small primary", text: "Grant", "data-testid": "role-grant", dataset: key("grant") }));
      grant.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = resource.value.trim();
        if (!value) { flash("Enter a resource (topic filter) to grant.", "error"); resource.focus(); return; }
        act(grant.querySelector("button"), async () => {
          await api("POST", "/api/roles/" + enc(name) + "/permissions",
            { resource: value, operation: operation.value, context: context.value });
          flash("Granted " + operation.value + " on " + value + " to " + name + ".", "ok");
          await this.load();
        });
      });
      const remove = el("button", {
        type: "button", class: "small danger", text: "Delete role", "aria-label": "Delete role " + name,
        "data-testid": "role-delete", dataset: key("delete"),
        onclick: (e) => {
          if (!confirm("Delete role " + name + "? Its members lose its permissions at once.")) return;
          act(e.currentTarget, async () => {
            await api("DELETE", "/api/roles/" + enc(name));
            flash("Deleted role " + name + ".", "ok");
            await this.load();
          });
        },
      });
      return el("section", { class: "card role", "data-role": name, "data-testid": "role-card", "aria-labelledby": idBase + "-h" },
        el("div", { class: "card-head" }, el("h3", { id: idBase + "-h", text: name }), remove),
        permissions, grant);
    },

    async add() {
      const name = $("#role-add-name").value.trim();
      if (!name) { flash("Enter a role name.", "error"); return; }
      const ok = await act($("#role-add-submit"), async () => { await api("POST", "/api/roles", { name }); });
      if (!ok) return;
      $("#role-add-form").reset();
      flash("Added role " + name + ". Grant it permissions below.", "ok");
      await this.load();
    },
  };

  // ---------------------------------------------------------------- audit
  const Audit = {
    limit: 25,
    cursors: [null], // cursors[i] = "before" of page i; null = newest
    index: 0,
    next: null,

    async init() {
      $("#audit-next").addEventListener("click", () => { if (this.next !== null) { this.cursors[this.index + 1] = this.next; this.go(this.index + 1); } });
      $("#audit-prev").addEventListener("click", () => { if (this.index > 0) this.go(this.index - 1); });
      $("#audit-newest").addEventListener("click", () => this.go(0));
      await this.go(0);
    },

    async go(index) {
      const before = this.cursors[index];
      const query = "?limit=" + this.limit + (before === null || before === undefined ? "" : "&before=" + enc(before));
      try {
        const pageData = await api("GET", "/api/audit" + query);
        this.index = index;
        this.cursors.length = index + 1;
        this.next = pageData.next === undefined ? null : pageData.next;
        this.render(pageData.entries || []);
      } catch (e) {
        if (!e.signedOut) flash("Could not load the audit log: " + e.message, "error");
      }
    },

    render(entries) {
      $("#audit-body").replaceChildren(...entries.map((entry) => el("tr", { "data-id": entry.id, "data-testid": "audit-row" },
        el("td", { text: String(entry.id) }),
        el("td", { class: "time", text: fmtTime(entry.at) }),
        el("td", { text: entry.actor }),
        el("td", { text: entry.action }),
        el("td", { text: entry.target || "" }),
        el("td", { class: "detail", text: entry.detail || "" }))));
      $("#audit-empty").hidden = entries.length > 0;
      $("#audit-page").textContent = "Page " + (this.index + 1);
      $("#audit-next").disabled = this.next === null;
      $("#audit-prev").disabled = this.index === 0;
      $("#audit-newest").disabled = this.index === 0;
    },
  };

  // ---------------------------------------------------------------- boot
  const pages = { registry: Registry, users: Users, roles: Roles, audit: Audit };

  async function boot() {
    if (page() === "login") return initLogin();
    wireLogout();
    try {
      await loadSession();
    } catch (e) {
      if (!e.signedOut) flash("Could not reach the server: " + e.message, "error");
      return;
    }
    const controller = pages[page()];
    if (controller) await controller.init();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();