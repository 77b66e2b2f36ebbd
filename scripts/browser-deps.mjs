/**
 * Before the tests: the HTML report's browser tests open pages in Debian's
 * Chromium (no browser download is reachable from these machines) and read
 * the printed PDF with poppler's pdfinfo and pdftotext. Where either is
 * missing they are installed from Debian's packages (as root), so that
 * `npm test` works on a fresh machine (apt-get's own output is shown only
 * when it fails); elsewhere this says what to install.
 */
import { execFileSync, spawnSync } from "node:child_process"
import process from "node:process"

const has = (command) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0
const missing = ["chromium", "pdftotext"].filter((command) => !has(command))
if (missing.length > 0) {
  if (process.getuid?.() !== 0 || !has("apt-get")) {
    process.stderr.write(`${missing.join(" and ")} missing: install Debian's chromium and poppler-utils (the HTML report's browser tests)\n`)
    process.exit(1)
  }
  const apt = (args) =>
    execFileSync("apt-get", args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  apt(["update", "-qq"])
  apt(["install", "-y", "-qq", "--no-install-recommends", "chromium", "poppler-utils", "fonts-dejavu-core"])
  process.stdout.write("installed chromium and poppler-utils for the browser tests\n")
}
