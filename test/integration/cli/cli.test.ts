import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { COMMANDS, main } from "../../../src/cli/index.js";
import { rankBacklog } from "../../../src/prioritizer/index.js";
import { openDb, rawSqlite } from "../../../src/store/db.js";
import { listOpenFindings } from "../../../src/store/findings.js";
import { listRepositories } from "../../../src/store/repositories.js";
import type { FindingRow } from "../../../src/store/schema.js";
import { createTask } from "../../../src/store/tasks.js";
import { commitFiles, initRepo, makeTempDir, removeDir } from "../../fixtures/git-repo.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const cleanup: string[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) removeDir(dir);
});

function temp(dir: string): string {
  cleanup.push(dir);
  return dir;
}

/** A resolve hook (registered with `--import`) that appends every module URL the process loads to LOADED_LOG. */
function loadHook(dir: string): string {
  const file = path.join(dir, "hook.mjs");
  const hook = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOADED_LOG, r.url + "\\n");
  return r;
}`;
  writeFileSync(
    file,
    `import { register } from "node:module";\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n`,
  );
  return file;
}

/** Runs the CLI as a real process (the TypeScript sources through tsx), returning its exit code, output and the modules it loaded. */
function cli(args: string[], dataDir: string, cwd = ROOT) {
  const log = path.join(dataDir, "loaded.log");
  writeFileSync(log, "");
  const script = `const m = await import(${JSON.stringify(path.join(ROOT, "src/cli/index.ts"))}); process.exitCode = await m.main(${JSON.stringify(args)});`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--import", loadHook(dataDir), "--input-type=module", "-e", script], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      BACKLOG_BOT_DATA_DIR: dataDir,
      LOADED_LOG: log,
      NODE_PATH: path.join(ROOT, "node_modules"),
    },
    encoding: "utf8",
  });
  const loaded = readFileSync(log, "utf8").split("\n").filter(Boolean);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, loaded };
}

const heavy = (loaded: string[]) =>
  loaded.filter((url) => /\/node_modules\/(probot|@octokit|pg)\/|\/src\/main\.ts$|\/src\/app\.ts$/.test(url));

describe("backlog-bot CLI", () => {
  it("prints help (help, --help, <command> --help) with exit 0, loading no command module", async () => {
    const data = temp(makeTempDir());
    const run = cli(["--help"], data);
    expect(run.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(run.stdout).toContain(`  ${name} `);
    expect(run.loaded.filter((url) => url.includes("/src/") && !/\/src\/cli\/(index|command)\.ts$/.test(url))).toEqual([]);
    const printed: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((text: string) => void printed.push(text));
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (const args of [[], ["help"], ["-h"]]) expect([args, await main(args)]).toEqual([args, 0]);
      for (const name of Object.keys(COMMANDS)) {
        for (const args of [
          [name, "--help"],
          ["help", name],
        ]) {
          printed.length = 0;
          expect([args, await main(args), printed[0]?.startsWith(`Usage: backlog-bot ${name}`)]).toEqual([args, 0, true]);
        }
      }
      expect(await main(["frobnicate"])).toBe(2);
      expect(error).toHaveBeenCalledWith(expect.stringContaining('unknown command "frobnicate"'));
      expect(await main(["backlog", "--nope"])).toBe(2);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });

  it("scans and prints the backlog with repository and marker columns, never cutting a location's line number; --json streams every row as ranked", async () => {
    const data = temp(makeTempDir());
    const repo = temp(initRepo());
    const deep = `${"very-long-directory-name/".repeat(4)}file.ts`;
    commitFiles(repo, { [deep]: "// FIXME: deep\n", "a.py": "# TODO: one\n# HACK: two\n", "b.py": "# TODO: one\n" });

    const scan = cli(["scan", repo, "--limit", "2"], data);
    expect(scan.code).toBe(0);
    expect(heavy(scan.loaded)).toEqual([]); // a local scan loads neither probot nor the server
    const [header, ...rows] = scan.stdout.trimEnd().split("\n");
    expect(header?.split(/\s{2,}/)).toEqual(["RANK", "SCORE", "KIND", "REPO", "MARKER", "LOCATION", "TEXT"]);
    expect(rows[0]).toMatch(/^1 +\d+ +todo +\S+ +FIXME +…\S*\/file\.ts:1 +deep$/);
    expect(rows.at(-1)).toMatch(/^… and 1 more/); // three rows ("one" twice is one row), two shown
    expect(scan.stderr).toMatch(/3 backlog rows in .* \(4 new, 0 resolved; 3 files read, 0 from the store/);

    const again = cli(["scan", repo], data);
    expect(again.stderr).toMatch(/\(0 new, 0 resolved; 0 files read, 3 from the store, 0 history processes\)/);

    const json = cli(["backlog", "--json"], data);
    expect(json.code).toBe(0);
    expect(heavy(json.loaded)).toEqual([]);
    const printed = JSON.parse(json.stdout) as { rank: number; fingerprint: string; score: number; repository: string; count: number }[];
    const db = await openDb(data);
    try {
      const expected = rankBacklog(await listOpenFindings(db), new Date());
      expect(printed.map((r) => [r.rank, r.fingerprint, r.score, r.count])).toEqual(
        expected.map((r) => [r.rank, r.fingerprint, r.score, r.group.count]),
      );
      expect(new Set(printed.map((r) => r.repository))).toEqual(new Set([repo]));
    } finally {
      await db.destroy();
    }
    expect(json.stdout.split("\n").length).toBe(printed.length + 3); // "[", a row per line, "]", final newline

    // The table takes its top rows without ranking everything into rows: the same first rows, ranks and scores as --json.
    const table = cli(["backlog", "--limit", "2"], data);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines.slice(1, 3).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual(
      printed.slice(0, 2).map((r) => [String(r.rank), String(r.score)]),
    );
    expect(lines.at(-1)).toBe(`… and ${printed.length - 2} more (--limit to show more, --json for all)`);
  });

  it("backlog --json prints exactly rankBacklog's rows, as JSON.stringify writes them, streamed", async () => {
    const data = temp(makeTempDir());
    const db = await openDb(data);
    const sqlite = rawSqlite(db);
    if (!sqlite) throw new Error("no SQLite handle");
    // Ages half a day off a whole day, so the CLI and the reference below count the same days even a little apart.
    const ago = (days: number) => new Date(Date.now() - (days + 0.5) * 86_400_000).toISOString();
    const repo = sqlite.prepare("insert into repositories (full_name, default_branch, created_at, updated_at) values (?, 'main', ?, ?)");
    for (const name of ["o/a", 'o/"quoted"']) repo.run(name, ago(0), ago(0));
    sqlite.prepare("update repositories set dashboard_issue_number = 99 where full_name = 'o/a'").run();
    const insert = sqlite.prepare(
      "insert into findings (repository_id, fingerprint, kind, title, path, line, url, issue_number, signals, first_seen_at, last_seen_at, resolved_at, dismissed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const todo = (marker: string, days: number) => JSON.stringify({ marker, author: 'Dév "x"', authoredAt: ago(days) });
    const rows: [
      number,
      string,
      string,
      string,
      string | null,
      number | null,
      string | null,
      number | null,
      string,
      string | null,
      string | null,
    ][] = [
      [1, "f1", "todo", "handle the case", "src/a.ts", 3, null, null, todo("TODO", 3), null, null],
      [1, "f2", "todo", "Handle  the case.", "src/b.ts", 9, null, null, todo("FIXME", 400), null, null], // grouped with f1
      [2, "f3", "todo", "handle the case", "src/a.ts", 3, null, null, todo("TODO", 3), null, null], // another repository: its own row
      [1, "f4", "todo", 'say "hi" \\ \u2028 é 😀\ttab\u0001', "vendor/lib/x.c", 1, null, null, todo("HACK", 30), null, null],
      [1, "f5", "todo", "spaced signals", "src/c.ts", null, null, null, '{ "marker" : "XXX", "n": 1.0, "authoredAt": "bad" }', null, null],
      [1, "f6", "todo", "no signals", "src/d.ts", 4, null, null, "not json", null, null],
      [
        1,
        "f7",
        "stale_issue",
        "Old issue",
        null,
        null,
        "https://github.com/o/a/issues/7",
        7,
        JSON.stringify({ createdAt: ago(90), labels: ["bug", "Help Wanted"], reactions: 3, comments: 2 }),
        null,
        null,
      ],
      [
        2,
        "f8",
        "failing_check",
        "CI red",
        null,
        null,
        "https://github.com/o/b/runs/1",
        null,
        JSON.stringify({ checkName: "ci", flaky: true }),
        null,
        null,
      ],
      [1, "f9", "todo", "resolved", "src/e.ts", 1, null, null, todo("TODO", 1), ago(0), null],
      [1, "f10", "todo", "dismissed", "src/e.ts", 2, null, null, todo("TODO", 1), null, ago(0)],
      [1, "f11", "issue", "Backlog dashboard", null, null, "https://github.com/o/a/issues/99", 99, "{}", null, null], // the bot's own
    ];
    for (const [repository, fp, kind, title, file, line, url, issue, signals, resolved, dismissed] of rows)
      insert.run(repository, fp, kind, title, file, line, url, issue, signals, ago(1), ago(0), resolved, dismissed);
    const names = new Map((await listRepositories(db)).map((r) => [r.id, r.full_name]));
    const reference = (now: Date, findings: FindingRow[]) =>
      `[\n${rankBacklog(findings, now)
        .map((r) =>
          JSON.stringify({
            rank: r.rank,
            score: r.score,
            breakdown: r.breakdown,
            kind: r.kind,
            repository: names.get(r.repository_id) ?? null,
            title: r.title,
            location: r.path ? (r.line ? `${r.path}:${r.line}` : r.path) : r.issue_number !== null ? `#${r.issue_number}` : (r.url ?? ""),
            path: r.path,
            line: r.line,
            url: r.url,
            issueNumber: r.issue_number,
            fingerprint: r.fingerprint,
            count: r.group.count,
            signals: r.signals,
            firstSeenAt: r.first_seen_at,
            lastSeenAt: r.last_seen_at,
          }),
        )
        .join(",\n")}\n]\n`;
    try {
      const json = cli(["backlog", "--json"], data);
      expect([json.code, json.stderr]).toEqual([0, ""]);
      expect(heavy(json.loaded)).toEqual([]);
      const notDashboard = (f: FindingRow) => f.issue_number !== 99;
      const expected = reference(new Date(), (await listOpenFindings(db)).filter(notDashboard));
      expect(expected.split("\n").length).toBe(10); // 7 rows of 8 open findings, and the frame
      expect(json.stdout).toBe(expected);

      // One repository goes through the store as before: the same bytes for its rows.
      const one = cli(["backlog", "--json", "--repo", "o/a"], data);
      expect(one.code).toBe(0);
      expect(one.stdout).toBe(reference(new Date(), (await listOpenFindings(db, 1)).filter(notDashboard)));
      expect(one.stdout).not.toContain("Backlog dashboard");

      // A store migrated by a newer build is not read past: the usual path reports it.
      sqlite.prepare("insert into kysely_migration (name, timestamp) values ('9999-future', ?)").run(ago(0));
      const newer = cli(["backlog", "--json"], data);
      expect([newer.code, newer.stdout]).toEqual([1, ""]);
      expect(newer.stderr).toContain("newer backlog-bot");
    } finally {
      await db.destroy();
    }
  });

  it("backlog --json into a reader that stops early (`| head`) ends quietly with exit 0, not an EPIPE trace", async () => {
    const data = temp(makeTempDir());
    const db = await openDb(data);
    const sqlite = rawSqlite(db);
    if (!sqlite) throw new Error("no SQLite handle");
    const at = new Date().toISOString();
    sqlite.prepare("insert into repositories (full_name, default_branch, created_at, updated_at) values ('o/a', 'main', ?, ?)").run(at, at);
    const insert = sqlite.prepare(
      "insert into findings (repository_id, fingerprint, kind, title, path, line, signals, first_seen_at, last_seen_at) values (1, ?, 'todo', ?, ?, ?, '{}', ?, ?)",
    );
    // About 1.5 MB of JSON: far more than a pipe holds, so the CLI is still writing when the reader goes.
    sqlite.transaction(() => {
      for (let i = 0; i < 5000; i++) insert.run(`f${i}`, `handle case ${i} of the parser`, `src/m${i % 50}.ts`, i + 1, at, at);
    })();
    await db.destroy();
    const script = `const m = await import(${JSON.stringify(path.join(ROOT, "src/cli/index.ts"))}); process.exitCode = await m.main(["backlog", "--json"]);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: data, BACKLOG_BOT_DATA_DIR: data, NODE_PATH: path.join(ROOT, "node_modules") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.stdout.once("data", () => child.stdout.destroy()); // `head -c 1`: read a little, then close the pipe
    const code = await new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("prints no terminal control or bidi characters from a repository or a task: the table, tasks and runs", async () => {
    const data = temp(makeTempDir());
    const repo = temp(initRepo());
    // ESC sequences clear the screen and retitle the window; BEL ends one; U+202E reverses what follows.
    const hostile = "clear \u001b[2J\u001b]0;pwned\u0007 and \u202egnirts\r over";
    commitFiles(repo, { "a.c": `// TODO: ${hostile}\n`, "b\u001b[31m.c": "// FIXME: red\n" });
    const scan = cli(["scan", repo], data);
    expect(scan.code).toBe(0);
    expect(scan.stdout).toContain("clear [2J]0;pwned and gnirts over");
    expect(scan.stdout).toContain("b[31m.c:1");
    const db = await openDb(data);
    try {
      const [row] = await listRepositories(db);
      await createTask(db, { repositoryId: row?.id ?? 0, issueNumber: 1, title: hostile, requestedBy: "maint", trigger: "comment" });
    } finally {
      await db.destroy();
    }
    const tasks = cli(["tasks"], data);
    const runs = cli(["runs", "1"], data);
    expect([tasks.code, runs.code]).toEqual([0, 0]);
    expect(runs.stdout).toContain("clear [2J]0;pwned and gnirts");
    for (const out of [scan.stdout, tasks.stdout, runs.stdout]) {
      for (const c of ["\u001b", "\u0007", "\u202e", "\r"]) expect(out).not.toContain(c);
    }
  });

  it("scan ranks with the repository's committed .gitattributes: generated code left out, vendored code demoted", () => {
    const data = temp(makeTempDir());
    const repo = temp(initRepo());
    commitFiles(repo, {
      ".gitattributes": "gen/** linguist-generated\nthird/** linguist-vendored\n",
      "src/a.ts": "// TODO: mine\n",
      "gen/b.ts": "// FIXME: generated\n",
      "third/c.ts": "// FIXME: theirs\n",
    });
    const scan = cli(["scan", repo, "--json"], data);
    expect(scan.code).toBe(0);
    const rows = JSON.parse(scan.stdout) as { title: string; breakdown: { signal: string; reason: string }[] }[];
    expect(rows.map((r) => r.title)).toEqual(["mine", "theirs"]);
    expect(rows[1]?.breakdown).toContainEqual(expect.objectContaining({ reason: expect.stringContaining("linguist-vendored") }));
  });

  it("exits 2 for a path that is no git repository", () => {
    const data = temp(makeTempDir());
    const plain = temp(makeTempDir());
    const run = cli(["scan", plain], data);
    expect([run.code, run.stderr]).toEqual([2, expect.stringContaining("is not a git repository")]);
  });

  it('exits 2 for an empty option value instead of ignoring it (scan --remote "$UNSET" must not scan the current directory)', () => {
    const data = temp(makeTempDir());
    for (const args of [
      ["scan", "--remote", ""],
      ["backlog", "--repo", ""],
      ["tasks", "--state", ""],
    ]) {
      const run = cli(args, data); // from this checkout: a git repository the first would otherwise have scanned
      expect([run.code, run.stdout]).toEqual([2, ""]);
      expect(run.stderr).toContain(`backlog-bot: ${args[1]} needs a value`);
    }
  });

  it("serve and doctor refuse bad options with exit 2 before they start anything (no stack trace, no setup server)", () => {
    const data = temp(makeTempDir());
    for (const [args, message] of [
      [["serve", "--bogus"], "Unknown option '--bogus'"],
      [["serve", "extra"], 'unexpected argument "extra"'],
      [["serve", "--role", "bogus"], '--role must be web, worker or all, not "bogus"'],
      [["serve", "--role", ""], "--role needs a value"],
      [["doctor", "extra"], 'unexpected argument "extra"'],
    ] as const) {
      const run = cli([...args], data);
      expect([run.code, run.stdout]).toEqual([2, ""]);
      expect(run.stderr).toMatch(new RegExp(`^backlog-bot: .*${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      expect(run.stderr).not.toContain("    at ");
    }
  });
});
