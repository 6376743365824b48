// Pigeon inbox: new messages and conversations appear without reloading (polls the JSON API).
// Everything a customer wrote is put on the page as text (textContent), never as HTML.
"use strict";

const POLL_MS = 3000;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

async function getJson(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (answer.status === 401) { window.location.reload(); return null; }
  if (!answer.ok) return null;
  return answer.json();
}

function messageNode(m) {
  const note = m.channel === "note";
  const li = el("li", `msg ${m.direction} ${m.author}${note ? " note" : ""}`);
  li.dataset.id = m.id;
  const meta = el("div", "meta");
  meta.append(el("span", "author", note ? "Note" : m.author.charAt(0).toUpperCase() + m.author.slice(1)));
  meta.append(el("span", "channel", m.channel));
  const time = el("time", null, when(m.created_at));
  time.dateTime = m.created_at;
  meta.append(time);
  if (m.status && !note) meta.append(deliveryNode(m));
  li.append(meta);
  if (m.subject) li.append(el("div", "subject", m.subject));
  li.append(el("div", "body", m.body));
  if (m.attachments && m.attachments.length) {
    li.append(el("div", "attachments", `Attachments (not kept): ${m.attachments.join(", ")}`));
  }
  return li;
}

function deliveryNode(m) {
  return el("span", `delivery ${m.status}`, m.status + (m.error_code ? ` · error ${m.error_code}` : ""));
}

async function pollThread(thread) {
  const list = document.getElementById("messages");
  const data = await getJson(`/api/conversations/${thread.dataset.conversation}/messages`);
  if (!data) return;
  const shown = new Map([...list.children].map((li) => [li.dataset.id, li]));
  for (const m of data.messages) {
    const li = shown.get(String(m.id));
    if (!li) {
      list.append(messageNode(m));
      continue;
    }
    const old = li.querySelector(".delivery");
    if (old && m.status && old.textContent !== deliveryNode(m).textContent) old.replaceWith(deliveryNode(m));
  }
}

async function pollList(table) {
  const query = new URLSearchParams(window.location.search);
  const data = await getJson(`/api/conversations?${query}`);
  if (!data) return;
  const body = table.tBodies[0];
  const rows = data.conversations.map((c) => {
    const tr = el("tr", c.unread ? "unread" : "");
    tr.dataset.id = c.id;
    const dot = el("td");
    if (c.unread) dot.append(el("span", "dot", "●"));
    const who = el("td");
    const link = el("a", null, c.customer.name || c.customer.phone || c.customer.email || "Unknown");
    link.href = `/inbox/${c.id}`;
    who.append(link);
    if (c.customer.name && c.customer.phone) who.append(" ", el("small", null, c.customer.phone));
    const status = el("td");
    status.append(el("span", `status ${c.status}`, c.status));
    tr.append(dot, who, status, el("td", null, c.channel), el("td", null, c.handoff_reason || ""),
      el("td", null, c.assignee || "—"), el("td", null, when(c.last_message_at)));
    return tr;
  });
  if (rows.length === 0) {
    const empty = el("tr");
    const cell = el("td", "empty", "No conversations here.");
    cell.colSpan = 7;
    empty.append(cell);
    rows.push(empty);
  }
  body.replaceChildren(...rows);
}

function start() {
  const thread = document.getElementById("thread");
  const table = document.querySelector("table.conversations");
  const poll = thread ? () => pollThread(thread) : table ? () => pollList(table) : null;
  if (!poll) return;
  setInterval(() => { if (!document.hidden) poll().catch(() => {}); }, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
