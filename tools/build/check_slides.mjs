// Open every deck in headless Chromium, visit every slide, collect console errors, page errors and failed requests,
// measure slides taller than the page, and screenshot a few slides. Run by tools/build/check_slides.py (which serves the
// decks over http on 127.0.0.1 and installs playwright-core); prints one JSON report on stdout.
//
//   node tools/build/check_slides.mjs '{"playwright": ".../playwright-core", "chromium": "/usr/bin/chromium",
//                                 "base": "http://127.0.0.1:PORT", "decks": ["01_x.slides.html"],
//                                 "shots": "build/slides/screenshots", "all": false, "width": 1280, "height": 720}'
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const cfg = JSON.parse(process.argv[2]);
const { chromium } = createRequire(import.meta.url)(cfg.playwright);

// Chromium without its background traffic: the machines that run this have no internet.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
              "--disable-dev-shm-usage"];  // containers give /dev/shm 64 MB

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "slides-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: cfg.chromium, headless: true, args: ARGS,
  viewport: { width: cfg.width, height: cfg.height }, deviceScaleFactor: 1,
});
const report = [];
try {
  for (const deck of cfg.decks) {
    const page = await context.newPage();
    const errors = [];
    page.on("console", (msg) => { if (msg.type() === "error") errors.push(`console: ${msg.text()}`); });
    page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
    page.on("requestfailed", (req) => errors.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
    page.on("response", (res) => { if (res.status() >= 400) errors.push(`HTTP ${res.status()}: ${res.url()}`); });
    const entry = { deck, slides: 0, errors, overflow: [], shots: [] };
    report.push(entry);
    try {
      await page.goto(`${cfg.base}/${deck}`, { waitUntil: "load", timeout: 60000 });
      await page.waitForSelector(".reveal.ready", { timeout: 30000 });
      // MathJax typesets after load; wait for its queue to drain before measuring or taking pictures.
      await page.evaluate(() => new Promise((done) => (window.MathJax ? MathJax.Hub.Queue(done) : done())));
      // reveal.js is an AMD module here (loaded with require.js): ask require.js for the instance.
      const slides = await page.evaluate(() => new Promise((done) => require(
        ["vendor/reveal.js/dist/reveal.js"],
        (R) => { window.__reveal = R; done(R.getHorizontalSlides().map((h) => Math.max(1, h.querySelectorAll(":scope > section").length))); },
      )));
      const wantPlot = { done: false };
      for (let h = 0; h < slides.length; h++) {
        for (let v = 0; v < slides[h]; v++) {
          entry.slides++;
          const info = await page.evaluate(([h, v]) => {
            window.__reveal.slide(h, v);
            const s = window.__reveal.getCurrentSlide();
            return { height: s.scrollHeight, plot: !!s.querySelector(".jp-RenderedImage img"),
                     title: (s.querySelector("h1, h2, h3")?.textContent || "").replace("¶", "").trim() };
          }, [h, v]);
          if (info.height > cfg.height + 4) entry.overflow.push({ h, v, height: info.height, title: info.title });
          const first = h === 0 && v === 0;
          const plot = info.plot && !wantPlot.done;
          if (cfg.all || first || plot) {
            if (plot) wantPlot.done = true;
            await page.evaluate(() => new Promise((done) => (window.MathJax ? MathJax.Hub.Queue(done) : done())));
            await page.waitForTimeout(150); // let the slide settle
            const name = `${deck.replace(".slides.html", "")}-${h}-${v}${first ? "-title" : plot ? "-plot" : ""}.png`;
            await page.screenshot({ path: path.join(cfg.shots, name) });
            entry.shots.push(name);
          }
        }
      }
    } catch (err) {
      errors.push(`check failed: ${err.message.split("\n")[0]}`);
    }
    await page.close();
  }
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + "\n");
