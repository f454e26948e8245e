import { z } from "zod";
import { routes } from "./routes.js";
import { ErrorResponse } from "./schemas.js";

/** Where the generated document lives (scripts/generate-openapi.ts writes it; a test fails when it drifts). */
export const OPENAPI_FILE = "docs/openapi.json";

type Json = Record<string, unknown>;

/** JSON Schema of a zod schema as OpenAPI 3.1 accepts it (`$schema` dropped; inputs as sent, outputs as returned). */
function schemaOf(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}

function parameters(schema: z.ZodObject | undefined, where: "path" | "query"): Json[] {
  if (!schema) return [];
  const json = schemaOf(schema, "input") as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === "path" || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const errorRef = { $ref: "#/components/schemas/Error" };
const errors: Record<string, string> = {
  "400": "Invalid input; `error.issues` lists each field path (`query.limit`, `body.agent`).",
  "401": "Not signed in and no valid API token.",
  "404": "Not found, or not readable by the caller.",
};
const writeErrors: Record<string, string> = {
  "403": "The caller lacks write, maintain or admin permission, or the CSRF token is missing (signed-in browsers).",
  "409": "Refused by the request service (a limit, or the task's state); the message says why.",
  "503": "This server takes no work requests.",
};

/**
 * The OpenAPI 3.1 document of `/api/v1`, built from the same route table and zod schemas the
 * handlers validate with. Deterministic: same code, same bytes.
 */
export function buildOpenApi(version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const responses: Record<string, Json> = {
      [String(route.status ?? 200)]: { description: "OK", content: { "application/json": { schema: schemaOf(route.response, "output") } } },
    };
    for (const [code, description] of Object.entries({ ...errors, ...(route.method === "POST" ? writeErrors : {}) })) {
      responses[code] = { description, content: { "application/json": { schema: errorRef } } };
    }
    const operation: Json = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
      responses,
    };
    if (route.body) {
      operation.requestBody = {
        required: false,
        content: {
          "application/json": { schema: schemaOf(route.body, "input") },
          "application/x-www-form-urlencoded": {
            schema: {
              ...schemaOf(route.body, "input"),
              properties: { ...(schemaOf(route.body, "input").properties as Json), _csrf: { type: "string" } },
            },
          },
        },
      };
    }
    const key = `/api/v1${route.path}`;
    paths[key] = { ...paths[key], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "backlog-bot API",
      version,
      description:
        "Read the ranked backlog, findings, tasks, runs and the audit log; start, cancel and retry tasks and dismiss findings with the same rules as `/agent fix`. Authenticate with `Authorization: Bearer $BACKLOG_BOT_API_TOKEN`, or a signed-in session cookie plus the `x-csrf-token` header on writes.",
    },
    servers: [{ url: "/" }],
    security: [{ apiToken: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        apiToken: { type: "http", scheme: "bearer", description: "BACKLOG_BOT_API_TOKEN" },
        session: { type: "apiKey", in: "cookie", name: "bb_session", description: "From signing in with GitHub at /login." },
      },
      schemas: { Error: schemaOf(ErrorResponse, "output") },
    },
  };
}

/** The document as written to `OPENAPI_FILE`. */
export function renderOpenApi(version: string): string {
  return `${JSON.stringify(buildOpenApi(version), null, 2)}\n`;
}
