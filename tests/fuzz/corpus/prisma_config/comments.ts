// schema: "no"
/* migrations: { path: "no" } */
export default { schema: join("a", "b"), migrations: { seed: { path: "x" } } }
