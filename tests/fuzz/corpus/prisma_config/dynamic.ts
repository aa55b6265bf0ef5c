const schema = "x";
export default { schema, migrations: { path: `${root}/m` } }
