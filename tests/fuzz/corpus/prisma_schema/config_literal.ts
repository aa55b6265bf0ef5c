// schema: "commented/out.prisma"
import { defineConfig } from "prisma/config";
/* schema: 'also/not' */
export default defineConfig({
  migrations: { path: "db/migrations" },
  schema: 'db/schema.prisma',
});
