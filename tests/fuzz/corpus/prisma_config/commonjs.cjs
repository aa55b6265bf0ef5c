module.exports = { "schema": `db/schema`, migrations: { path: path.join("db", "migrations") } }
