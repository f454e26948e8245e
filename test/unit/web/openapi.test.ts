import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OPENAPI_FILE, renderOpenApi } from "../../../src/web/api/openapi.js";
import { routes } from "../../../src/web/api/routes.js";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

describe("OpenAPI document", () => {
  it("is generated from the route table and committed up to date (run npx tsx scripts/generate-openapi.ts)", () => {
    expect(readFileSync(OPENAPI_FILE, "utf8")).toBe(renderOpenApi(pkg.version));
  });

  it("documents every route with its parameters, body and error responses", () => {
    const doc = JSON.parse(renderOpenApi(pkg.version)) as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            parameters: { name: string; in: string; required: boolean }[];
            responses: Record<string, unknown>;
            requestBody?: unknown;
          }
        >
      >;
    };
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    expect(ops.map((o) => o.operationId).sort()).toEqual(routes.map((r) => r.operationId).sort());
    const backlog = doc.paths["/api/v1/repositories/{owner}/{name}/backlog"]?.get;
    expect(backlog?.parameters.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      "path:owner:true",
      "path:name:true",
      "query:limit:false",
      "query:cursor:false",
      "query:kind:false",
    ]);
    const start = doc.paths["/api/v1/findings/{id}/tasks"]?.post;
    expect(Object.keys(start?.responses ?? {}).sort()).toEqual(["201", "400", "401", "403", "404", "409", "503"]);
    expect(start?.requestBody).toBeDefined();
  });
});
