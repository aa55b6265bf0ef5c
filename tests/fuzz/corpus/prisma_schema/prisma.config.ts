// Prisma 7 reads the connection URL from here, not from the schema. `prisma generate` does
// not connect, so an unset DATABASE_URL must not stop it: read the variable without env(),
// which would throw.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: {
    path: "prisma/migrations",
  },
  datasource: {
    url: process.env.DATABASE_URL ?? "",
  },
});
