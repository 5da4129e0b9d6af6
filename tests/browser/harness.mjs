// What the browser tests share: the stack they run against (from CALLSTACK_BROWSER, written
// by tests/browser/test_browser.py), Debian's chromium driven by playwright-core, the
// emulator's control socket and HA's REST/websocket API with the dev user's token.

import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { chromium } from "playwright-core";

export const stack = JSON.parse(process.env.CALLSTACK_BROWSER || "{}");

// Flags Debian's chromium needs here: headless as root, and no background connections (the
// machine has no network; chromium would retry them at every start).
const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launch() {
  return chromium.launch({
    executablePath: stack.chromium || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

export async function screenshot(page, name, options = {}) {
  mkdirSync(stack.screenshots, { recursive: true });
  const file = path.join(stack.screenshots, `${name}.png`);
  await (options.locator || page).screenshot({ path: file, ...(options.locator ? {} : options) });
  return file;
}

/** Log in on HA's login page as the development user; resolves on the first dashboard. */
export async function logIn(page) {
  await page.goto(`${stack.url}/`);
  await page.getByRole("textbox", { name: "Username" }).fill(stack.username);
  await page.getByRole("textbox", { name: "Password" }).fill(stack.password);
  await page.getByRole("button", { name: /log in/i }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/auth/"));
  await page.locator("home-assistant").waitFor();
}

/** One command to an emulator's control socket (the JSON lines `ctl` speaks). */
export function ctl(control, command, args = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(control);
    let data = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify({ command, args })}\n`));
    socket.on("data", (chunk) => {
      data += chunk;
      if (data.includes("\n")) {
        socket.end();
        const reply = JSON.parse(data);
        if (reply.ok) {
          resolve(reply.result);
        } else {
          reject(new Error(`ctl ${command}: ${reply.error}`));
        }
      }
    });
    socket.on("error", reject);
  });
}

/** HA's REST API with the dev user's long-lived token. */
export async function rest(method, urlPath, body) {
  const response = await fetch(`${stack.url}${urlPath}`, {
    method,
    headers: { Authorization: `Bearer ${stack.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Poll `probe` until it returns something truthy; fail saying what was awaited. */
export async function until(what, probe, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const result = await probe();
    if (result) {
      return result;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
