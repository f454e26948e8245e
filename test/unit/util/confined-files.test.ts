import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readConfinedFile, writeConfinedFile } from "../../../src/util/confined-files.js";

describe("writeConfinedFile and readConfinedFile", () => {
  let root: string;
  let home: string;
  let victim: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "confined-"));
    home = path.join(root, "home");
    victim = path.join(root, "victim");
    await mkdir(home);
    await mkdir(victim);
    await writeFile(path.join(victim, "secret.txt"), "SECRET\n");
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("replaces a linked directory at any depth and a linked file, never writing through them", async () => {
    await mkdir(path.join(home, "a"));
    await symlink(victim, path.join(home, "a", "b"));
    await symlink(path.join(victim, "secret.txt"), path.join(home, "top.txt"));
    await writeConfinedFile(home, "a/b/c/file.txt", "one");
    await writeConfinedFile(home, "top.txt", "two");
    expect(await readdir(victim)).toEqual(["secret.txt"]);
    expect(await readFile(path.join(victim, "secret.txt"), "utf8")).toBe("SECRET\n");
    expect((await lstat(path.join(home, "a", "b"))).isDirectory()).toBe(true);
    expect(await readFile(path.join(home, "a/b/c/file.txt"), "utf8")).toBe("one");
    const top = await lstat(path.join(home, "top.txt"));
    expect(top.isFile()).toBe(true);
    expect(top.mode & 0o777).toBe(0o600);
  });

  it("replaces a file where a directory belongs and a directory where the file belongs", async () => {
    await writeFile(path.join(home, "d"), "not a dir");
    await mkdir(path.join(home, "f.txt", "inner"), { recursive: true });
    await symlink(victim, path.join(home, "f.txt", "inner", "link"));
    await writeConfinedFile(home, "d/x.txt", "x");
    await writeConfinedFile(home, "f.txt", "f");
    expect(await readFile(path.join(home, "d", "x.txt"), "utf8")).toBe("x");
    expect(await readFile(path.join(home, "f.txt"), "utf8")).toBe("f");
    expect(await readdir(victim)).toEqual(["secret.txt"]);
  });

  it("reads only real files inside the root: not through links, not a FIFO, not past the cap", async () => {
    await writeFile(path.join(home, "ok.json"), "{}");
    await symlink(path.join(victim, "secret.txt"), path.join(home, "link.json"));
    await symlink(victim, path.join(home, "dir"));
    execFileSync("mkfifo", [path.join(home, "fifo")]);
    expect(await readConfinedFile(home, "ok.json", 10)).toBe("{}");
    expect(await readConfinedFile(home, "ok.json", 1)).toBeUndefined();
    expect(await readConfinedFile(home, "link.json", 100)).toBeUndefined();
    expect(await readConfinedFile(home, "dir/secret.txt", 100)).toBeUndefined();
    expect(await readConfinedFile(home, "fifo", 100)).toBeUndefined();
    expect(await readConfinedFile(home, "missing", 100)).toBeUndefined();
  });

  it("refuses paths that are not plain relative paths", async () => {
    for (const bad of ["../victim/secret.txt", "/etc/passwd", "a//b", "./a", ""]) {
      await expect(writeConfinedFile(home, bad, "x")).rejects.toThrow(/not a plain relative path/);
    }
    await expect(readConfinedFile(home, "../victim/secret.txt", 100)).rejects.toThrow(/not a plain relative path/);
  });
});
