// Opens profiles in speedscope (npm package, served on loopback by
// test_viewers.py) in headless Chromium, driven by playwright-core.
//
//   node speedscope_check.js CHROMIUM BASE_URL NAME...
//
// For each NAME, loads BASE_URL/speedscope/index.html#profileURL=
// BASE_URL/p/NAME&view=sandwich, waits until speedscope has imported the
// profile (it then sets the title to "NAME - speedscope"), and reports as
// JSON on stdout: every console warning and error and page error, the
// title, and the sandwich table's rows (total, self, name) as speedscope
// computed them from the file.
const { chromium } = require('playwright-core');

async function main() {
  const [exe, base, ...names] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--enable-unsafe-swiftshader'],
  });
  const out = {};
  try {
    for (const name of names) {
      const page = await browser.newPage({ viewport: { width: 1600, height: 3000 } });
      const messages = [];
      page.on('console', (m) => {
        if (m.type() === 'warning' || m.type() === 'error') {
          messages.push(`${m.type()}: ${m.text()}`);
        }
      });
      page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
      const url = `${base}/speedscope/index.html#profileURL=` +
        encodeURIComponent(`${base}/p/${name}`) + '&view=sandwich';
      await page.goto(url);
      try {
        await page.waitForFunction((n) => document.title === `${n} - speedscope`, name,
                                   { timeout: 20000 });
      } catch (e) {
        messages.push(`timeout: title is "${await page.title()}"`);
      }
      // The sandwich table: rows of Total, Self, Symbol Name.
      await page.waitForTimeout(200);
      const rows = await page.evaluate(() => {
        const found = [];
        for (const tr of document.querySelectorAll('table tr, [role=row]')) {
          const cells = Array.from(tr.children).map((c) => c.innerText.trim());
          if (cells.length >= 3) found.push(cells);
        }
        return found;
      });
      const text = await page.evaluate(() => document.body.innerText);
      out[name] = { messages, title: await page.title(), rows, text };
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exit(2);
});
