// A tiny HTTP API over the generated Prisma client: what devinit brings up in the demo and
// the tests. Plain ESM JavaScript so node runs it as is, with no build step.
//
//   GET  /health   {"status":"ok"} once a query went through the client
//   GET  /users    users with their profile and post count
//   POST /users    {"email": "...", "name": "...", "bio": "..."} creates a user (and profile)
//   GET  /posts    posts with author and tags
import http from "node:http";

import prismaClient from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";

// The generated client is CommonJS; its names are reachable through the default import.
const { PrismaClient, Prisma } = prismaClient;

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("app: DATABASE_URL is not set: export it, e.g. postgresql://user:pass@host:5432/db");
  process.exit(78);
}

// Prisma 7 talks to PostgreSQL through a driver adapter; `pg` rejects Prisma-only URL
// parameters such as ?schema=, so pass the schema separately.
const parsed = new URL(url);
const schema = parsed.searchParams.get("schema") ?? undefined;
parsed.searchParams.delete("schema");
const adapter = new PrismaPg({ connectionString: parsed.toString() }, schema ? { schema } : undefined);
const prisma = new PrismaClient({ adapter });

function send(res, status, body) {
  const text = JSON.stringify(body, null, 2) + "\n";
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req) {
  let raw = "";
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 1 << 20) throw new Error("request body too large");
  }
  return raw ? JSON.parse(raw) : {};
}

const routes = {
  "GET /health": async () => {
    await prisma.$queryRaw`SELECT 1`;
    return [200, { status: "ok", clientVersion: Prisma.prismaVersion.client }];
  },
  "GET /users": async () => {
    const users = await prisma.user.findMany({
      orderBy: { id: "asc" },
      include: { profile: true, _count: { select: { posts: true } } },
    });
    return [200, users];
  },
  "POST /users": async (req) => {
    const { email, name, bio, role } = await readJson(req);
    if (typeof email !== "string" || !email.includes("@")) {
      return [400, { error: "email is required" }];
    }
    const user = await prisma.user.create({
      data: {
        email,
        name: name ?? null,
        role: role ?? undefined,
        profile: bio ? { create: { bio } } : undefined,
      },
      include: { profile: true },
    });
    return [201, user];
  },
  "GET /posts": async () => {
    const posts = await prisma.post.findMany({
      orderBy: { id: "asc" },
      include: { author: { select: { id: true, email: true } }, tags: true },
    });
    return [200, posts];
  },
};

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, "http://localhost").pathname;
  const route = routes[`${req.method} ${path}`];
  if (!route) {
    send(res, 404, { error: `no route ${req.method} ${path}`, routes: Object.keys(routes) });
    return;
  }
  try {
    const [status, body] = await route(req);
    send(res, status, body);
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      send(res, 409, { error: "already exists", target: err.meta?.target });
      return;
    }
    console.error(`app: ${req.method} ${path} failed:`, err);
    send(res, 500, { error: String(err.message ?? err) });
  }
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "0.0.0.0";
server.listen(port, host, () => {
  const { port: bound } = server.address();
  console.log(`app: listening on http://${host}:${bound} (prisma client ${Prisma.prismaVersion.client})`);
});

// devinit forwards SIGTERM/SIGINT to the app's process group; finish in-flight requests.
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`app: ${signal}: shutting down`);
    server.close(async () => {
      await prisma.$disconnect();
      process.exit(0);
    });
    server.closeAllConnections?.();
  });
}
